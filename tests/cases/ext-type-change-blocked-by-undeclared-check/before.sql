CREATE TABLE foobar ("ID" integer PRIMARY KEY, "Bar" bigint CHECK ("Bar" > 0));
