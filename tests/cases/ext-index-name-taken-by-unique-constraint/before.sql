CREATE TABLE t (id integer, e text, CONSTRAINT t_e_key UNIQUE (e));
