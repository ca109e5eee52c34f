CREATE TABLE items (id integer PRIMARY KEY, qty integer NOT NULL DEFAULT 1);
INSERT INTO items VALUES (1, 2), (2, 3);
