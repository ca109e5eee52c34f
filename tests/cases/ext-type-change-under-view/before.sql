CREATE TABLE t (id integer, a integer);
CREATE VIEW v AS SELECT id, a FROM t;
