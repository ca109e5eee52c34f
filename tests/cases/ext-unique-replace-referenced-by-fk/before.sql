CREATE TABLE parent (id integer PRIMARY KEY, code text, CONSTRAINT parent_code_key UNIQUE (code));
CREATE TABLE child (code text REFERENCES parent (code));
