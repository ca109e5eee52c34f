CREATE TABLE "foo bar" (id integer PRIMARY KEY);
CREATE TABLE "foobar fk" (fk_id integer);
