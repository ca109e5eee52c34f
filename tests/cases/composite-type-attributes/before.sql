CREATE TYPE address AS (street text, zip text, note text);
CREATE TYPE quote AS (bid numeric, ask numeric);
CREATE TABLE customers (id bigint PRIMARY KEY, home address);
INSERT INTO customers VALUES (1, ROW('Main St', '1000', 'x'));
