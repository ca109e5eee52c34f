CREATE TABLE slots (id int PRIMARY KEY, venue text, position int);
