CREATE TABLE orders (
    id text PRIMARY KEY,
    sessionid text,
    sym text NOT NULL,
    status text DEFAULT 'open',
    price numeric
);
CREATE INDEX idx_orders_status ON orders (status);
INSERT INTO orders VALUES ('o1', 's1', 'BTC/USD', 'open', 1), ('o2', 's2', 'ETH/USD', 'filled', 2);
