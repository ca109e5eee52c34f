CREATE FUNCTION next_order_ref() RETURNS text LANGUAGE sql AS $$ SELECT 'ord-' || md5(random()::text) $$;
CREATE FUNCTION is_symbol(s text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN s ~ '^[A-Z]+/[A-Z]+$'; END $$;
CREATE TABLE orders (id bigint PRIMARY KEY, ref text DEFAULT next_order_ref(), symbol text,
  CONSTRAINT orders_symbol_valid CHECK (is_symbol(symbol)));
CREATE INDEX orders_symbol_ok ON orders (symbol) WHERE is_symbol(symbol);
