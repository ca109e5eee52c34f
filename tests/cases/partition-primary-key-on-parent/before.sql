CREATE TABLE books (venue text NOT NULL, seq bigint NOT NULL, side text) PARTITION BY LIST (venue);
CREATE TABLE books_a PARTITION OF books FOR VALUES IN ('a');
CREATE TABLE books_b PARTITION OF books FOR VALUES IN ('b');
INSERT INTO books VALUES ('a', 1, 'bid'), ('b', 1, 'ask');
