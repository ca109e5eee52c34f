CREATE TABLE symbols (
    code text PRIMARY KEY,
    name text NOT NULL,
    venue text COLLATE "C"
);
CREATE INDEX idx_symbols_name ON symbols (name);
INSERT INTO symbols VALUES ('BTC/USD', 'Bitcoin', 'kraken'), ('eth/usd', 'ether', 'Coinbase');
