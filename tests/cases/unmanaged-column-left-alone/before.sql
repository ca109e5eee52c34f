CREATE TABLE orders (
    id text PRIMARY KEY,
    symbol text NOT NULL,
    legacy_note text
);
INSERT INTO orders VALUES ('o1', 'BTC/USD', 'imported from v1'), ('o2', 'ETH/USD', NULL);
