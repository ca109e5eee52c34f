CREATE TABLE foobar (id integer PRIMARY KEY, val text DEFAULT 'SOMETHING');
