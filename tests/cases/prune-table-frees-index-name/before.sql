CREATE TABLE old_items (id int);
CREATE UNIQUE INDEX items_id_idx ON old_items (id);
