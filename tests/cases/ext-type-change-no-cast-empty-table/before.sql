CREATE TABLE "Foobar" (id integer PRIMARY KEY, some_time_col bigint);
