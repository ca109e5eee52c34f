CREATE TABLE parent (id integer PRIMARY KEY, code text);
CREATE UNIQUE INDEX parent_code_idx ON parent (code);
CREATE TABLE child (code text REFERENCES parent (code));
