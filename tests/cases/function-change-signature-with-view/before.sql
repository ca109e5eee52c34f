CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric);
CREATE FUNCTION gross(amount numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$SELECT amount * 1.2$$;
CREATE VIEW gross_prices AS SELECT id, gross(amount) AS gross FROM prices;
