CREATE TABLE imports (
    id bigint PRIMARY KEY,
    qty text NOT NULL,
    price text
);
INSERT INTO imports VALUES (1, '10', '1.25'), (2, ' 7', NULL), (3, '0', '99.99');
