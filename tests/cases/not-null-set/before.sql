CREATE TABLE fills (
    id bigint PRIMARY KEY,
    sessionid text,
    symbol text,
    price numeric
);
INSERT INTO fills VALUES (1, 's1', 'BTC/USD', 1), (2, 's1', 'ETH/USD', 2), (3, 's2', 'BTC/USD', 3);
