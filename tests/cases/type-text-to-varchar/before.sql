CREATE TABLE orders (
    id text PRIMARY KEY,
    client_ref text,
    note text
);
INSERT INTO orders VALUES ('o1', 'ref-1', 'short'), ('o2', NULL, 'also short');
