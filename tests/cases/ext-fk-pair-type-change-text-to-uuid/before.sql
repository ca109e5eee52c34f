CREATE TABLE parent (id text PRIMARY KEY);
CREATE TABLE child (parent_id text REFERENCES parent (id));
