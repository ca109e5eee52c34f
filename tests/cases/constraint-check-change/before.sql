CREATE TABLE prices (id int PRIMARY KEY, price numeric, CONSTRAINT prices_price_positive CHECK (price > 0));
INSERT INTO prices VALUES (1, 10), (2, 20);
