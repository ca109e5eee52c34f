CREATE TABLE stock (id bigint PRIMARY KEY, item text, qty int, note text);
CREATE VIEW stock_items AS SELECT id, item, qty, note FROM stock;
CREATE MATERIALIZED VIEW item_qty AS SELECT item, sum(qty) AS qty FROM stock_items GROUP BY item;
CREATE UNIQUE INDEX item_qty_item ON item_qty (item);
COMMENT ON MATERIALIZED VIEW item_qty IS 'kept';
CREATE VIEW low_items AS SELECT item FROM item_qty WHERE qty < 5;
