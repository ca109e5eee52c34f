CREATE TABLE parent (id integer PRIMARY KEY, k integer NOT NULL);
CREATE TABLE child (parent_id integer REFERENCES parent (id));
