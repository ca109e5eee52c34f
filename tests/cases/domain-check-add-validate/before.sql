CREATE DOMAIN qty AS int DEFAULT 1 CONSTRAINT qty_old CHECK (VALUE <> 13);
CREATE TABLE orders (id bigint PRIMARY KEY, qty qty);
INSERT INTO orders VALUES (1, 5), (2, NULL), (3, 100);
