CREATE TYPE order_status AS ENUM ('new', 'filled');
CREATE TABLE orders (id bigint PRIMARY KEY, status order_status);
INSERT INTO orders VALUES (1, 'new'), (2, 'filled');
