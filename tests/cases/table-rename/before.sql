CREATE TABLE trades (
    id bigint PRIMARY KEY,
    symbol text NOT NULL,
    price numeric NOT NULL
);
CREATE INDEX idx_trades_symbol ON trades (symbol);
INSERT INTO trades VALUES (1, 'BTC/USD', 64000), (2, 'ETH/USD', 3400);
