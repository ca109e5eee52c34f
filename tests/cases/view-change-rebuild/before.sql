CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric);
CREATE VIEW priced AS SELECT id, name, price FROM items;
CREATE VIEW cheap AS SELECT id FROM priced WHERE price < 10;
COMMENT ON VIEW cheap IS 'kept';
