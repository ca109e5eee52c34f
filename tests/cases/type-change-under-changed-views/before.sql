CREATE TABLE products (id int PRIMARY KEY, name varchar(10), price numeric);
CREATE VIEW names AS SELECT id, name FROM products;
CREATE MATERIALIZED VIEW prices AS SELECT id, name, price FROM products;
CREATE MATERIALIZED VIEW counts AS SELECT name, count(*) AS n FROM products GROUP BY name;
CREATE INDEX counts_name ON counts (name);
CREATE VIEW repeated AS SELECT name FROM counts WHERE n > 1;
