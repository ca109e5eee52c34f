CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric);
CREATE MATERIALIZED VIEW customer_totals AS SELECT customer, sum(total) AS total FROM orders GROUP BY customer;
CREATE UNIQUE INDEX customer_totals_customer ON customer_totals (customer);
CREATE INDEX customer_totals_total ON customer_totals (total);
CREATE VIEW big_customers AS SELECT customer FROM customer_totals WHERE total > 1000;
COMMENT ON VIEW big_customers IS 'kept';
CREATE MATERIALIZED VIEW top_customers AS SELECT customer FROM big_customers LIMIT 10;
INSERT INTO orders VALUES (1, 'a', 2000), (2, 'b', 5);
REFRESH MATERIALIZED VIEW customer_totals;
