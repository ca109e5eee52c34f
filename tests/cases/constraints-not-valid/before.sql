CREATE TABLE venues (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, venue int, qty int, price numeric,
    CONSTRAINT qty_positive CHECK (qty > 0));
INSERT INTO venues VALUES (1);
INSERT INTO orders VALUES (1, 1, 5, 10), (2, 99, 3, -1);
ALTER TABLE orders ADD CONSTRAINT price_known CHECK (price IS NOT NULL) NOT VALID;
