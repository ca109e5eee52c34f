CREATE TABLE orders (
    id text NOT NULL,
    symbol text
);
CREATE TABLE fills (
    orderid text NOT NULL,
    seq integer NOT NULL,
    price numeric
);
INSERT INTO orders VALUES ('o1', 'BTC/USD'), ('o2', 'ETH/USD');
INSERT INTO fills VALUES ('o1', 1, 10), ('o1', 2, 11), ('o2', 1, 12);
