CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE events (k text, parent_id integer) PARTITION BY LIST (k);
CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
