CREATE TABLE lines (
    id bigint PRIMARY KEY,
    price numeric(18,8) NOT NULL,
    qty integer NOT NULL,
    total numeric GENERATED ALWAYS AS (price * qty) STORED
);
INSERT INTO lines (id, price, qty) VALUES (1, 2.5, 4);
