CREATE TABLE foobar (id integer, foo varchar(255), bar integer, PRIMARY KEY (foo, id)) PARTITION BY LIST (foo);
CREATE TABLE foobar_1 PARTITION OF foobar FOR VALUES IN ('foo_1');
