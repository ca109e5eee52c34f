CREATE TABLE fills (id bigint PRIMARY KEY, price numeric, size numeric, side text,
  CONSTRAINT fills_price_positive CHECK (price > 0),
  CONSTRAINT fills_side_valid CHECK (side IN ('buy', 'sell')));
