CREATE TABLE sessions (id text PRIMARY KEY);
INSERT INTO sessions VALUES ('s1');
