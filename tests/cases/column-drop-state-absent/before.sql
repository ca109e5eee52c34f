CREATE TABLE orders (
    id text PRIMARY KEY,
    symbol text NOT NULL,
    legacy_flag boolean DEFAULT false,
    old_price numeric
);
CREATE INDEX idx_orders_old_price ON orders (old_price);
INSERT INTO orders VALUES ('o1', 'BTC/USD', true, 1), ('o2', 'ETH/USD', false, NULL);
