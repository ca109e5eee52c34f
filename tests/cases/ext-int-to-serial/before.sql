CREATE TABLE foobar (id integer PRIMARY KEY, counter integer NOT NULL);
