CREATE TABLE sales (id bigint PRIMARY KEY, region text, amount numeric);
CREATE VIEW regions AS SELECT DISTINCT region FROM sales;
