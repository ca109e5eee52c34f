CREATE TABLE orders (
    id text PRIMARY KEY,
    sessionid text NOT NULL,
    symbol text,
    price numeric NOT NULL,
    size numeric NOT NULL,
    status text NOT NULL DEFAULT 'open'
);
INSERT INTO orders (id, sessionid, symbol, price, size, status) VALUES
    ('o1', 's1', 'BTC/USD', 64000.5, 0.01, 'open'),
    ('o2', 's1', 'ETH/USD', 3400.25, 0.5, 'filled'),
    ('o3', 's2', 'BTC/USD', 64100, 0.02, 'cancelled'),
    ('o4', 's2', NULL, 1.5, 10, 'open');
