CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE products (id bigint PRIMARY KEY, title text NOT NULL);
CREATE INDEX idx_products_title_trgm ON products USING gin (title gin_trgm_ops);
INSERT INTO products VALUES (1, 'Blue widget'), (2, 'Red gadget');
