CREATE TABLE items (id bigint PRIMARY KEY, price numeric);
CREATE MATERIALIZED VIEW item_prices AS SELECT id, price FROM items;
CREATE INDEX item_prices_id ON item_prices (id);
CREATE VIEW cheap_items AS SELECT id FROM item_prices WHERE price < 10;
