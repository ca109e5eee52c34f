CREATE TABLE orders (id text PRIMARY KEY, symbol text);
CREATE TABLE legacy_orders (id text PRIMARY KEY, symbol text, imported_at timestamptz);
CREATE INDEX idx_legacy_orders_symbol ON legacy_orders (symbol);
INSERT INTO legacy_orders VALUES ('x1', 'BTC/USD', now());
