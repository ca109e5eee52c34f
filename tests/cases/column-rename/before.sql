CREATE TABLE customers (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    mail text
);
CREATE INDEX idx_customers_name ON customers (name);
INSERT INTO customers VALUES (1, 'Alice', 'a@example.com'), (2, 'Bob', NULL);
