CREATE TABLE t1 (id bigserial PRIMARY KEY, note text);
INSERT INTO t1 (note) VALUES ('a');
