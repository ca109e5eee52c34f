CREATE TABLE old_t (id int);
CREATE INDEX shared_idx ON old_t (id);
