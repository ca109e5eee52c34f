CREATE TABLE a (id int CONSTRAINT a_pkey PRIMARY KEY);
CREATE TABLE gone (id int);
CREATE INDEX a_pk ON gone (id);
