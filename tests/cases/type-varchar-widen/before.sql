CREATE TABLE symbols (
    code varchar(10) PRIMARY KEY,
    venue varchar(20)
);
CREATE INDEX idx_symbols_venue ON symbols (venue);
INSERT INTO symbols VALUES ('BTC/USD', 'kraken'), ('ETH/USD', 'coinbase');
