CREATE TABLE fills (
    id bigint PRIMARY KEY,
    orderid text NOT NULL,
    fee numeric NOT NULL DEFAULT 0
);
INSERT INTO fills VALUES (1, 'o1', 0.1);
