CREATE TABLE foobar (id integer);
CREATE UNIQUE INDEX foobar_primary_key ON foobar (id);
