CREATE TABLE nodes (
    id integer PRIMARY KEY,
    parent integer CONSTRAINT nodes_parent_fkey REFERENCES nodes (id),
    label text CONSTRAINT nodes_label_key UNIQUE,
    weight integer CONSTRAINT nodes_weight_check CHECK (weight > 0)
);
CREATE INDEX nodes_weight_idx ON nodes (weight) WHERE weight > 1;
CREATE INDEX nodes_lower_label_idx ON nodes (lower(label)) INCLUDE (weight);
