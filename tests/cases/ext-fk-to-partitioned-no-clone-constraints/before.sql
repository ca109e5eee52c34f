CREATE TABLE parent (id integer, k text, PRIMARY KEY (k, id)) PARTITION BY LIST (k);
CREATE TABLE parent_a PARTITION OF parent FOR VALUES IN ('a');
CREATE TABLE parent_b PARTITION OF parent FOR VALUES IN ('b');
CREATE TABLE child (pk text, pid integer, CONSTRAINT child_parent_fk FOREIGN KEY (pk, pid) REFERENCES parent (k, id));
