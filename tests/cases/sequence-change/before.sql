CREATE TABLE orders (id bigint, number integer, ref integer);
CREATE SEQUENCE order_numbers AS integer OWNED BY orders.number;
ALTER TABLE orders ALTER COLUMN number SET DEFAULT nextval('order_numbers');
CREATE SEQUENCE tickets START 5 MAXVALUE 100;
SELECT nextval('tickets'), nextval('tickets');
CREATE SEQUENCE unchanged INCREMENT 2;
SELECT nextval('unchanged');
