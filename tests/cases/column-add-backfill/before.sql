CREATE TABLE sessions (
    id text PRIMARY KEY,
    symbol text,
    startedat bigint NOT NULL
);
INSERT INTO sessions VALUES
    ('s1', 'BTC/USD', 1717200000000), ('s2', 'ETH/USD', 1717200001000),
    ('s3', NULL, 1717200002000), ('s4', 'SOL/USD', 1717200003000), ('s5', NULL, 1717200004000);
