CREATE TABLE fills (
    id bigint PRIMARY KEY,
    symbol text,
    "timestamp" bigint,
    price numeric
);
CREATE INDEX idx_fills_symbol_ts ON fills (symbol, "timestamp" DESC);
CREATE INDEX idx_fills_price ON fills (price);
INSERT INTO fills VALUES (1, 'BTC/USD', 1717200000000, 100);
