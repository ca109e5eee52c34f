CREATE TABLE t (id integer, code integer);
CREATE INDEX t_code ON t (code) WHERE code > 0;
