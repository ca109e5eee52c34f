CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10 CACHE 20),
    seq integer NOT NULL,
    note text
);
INSERT INTO orders (seq) VALUES (1), (2);
