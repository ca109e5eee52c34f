CREATE TABLE orders (id bigint PRIMARY KEY, status text, total numeric);
CREATE VIEW open_orders AS SELECT id, status FROM orders WHERE status = 'open';
CREATE VIEW order_ids AS SELECT id FROM orders;
COMMENT ON VIEW order_ids IS 'old';
CREATE VIEW reader AS SELECT id FROM open_orders;
