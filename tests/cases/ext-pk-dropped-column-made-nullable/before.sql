CREATE TABLE foobar (id integer PRIMARY KEY, foo text NOT NULL);
