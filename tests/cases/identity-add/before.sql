CREATE TABLE audit (
    id bigint NOT NULL PRIMARY KEY,
    note text
);
CREATE TABLE jobs (
    id integer NOT NULL PRIMARY KEY,
    name text
);
INSERT INTO audit VALUES (1, 'a'), (2, 'b');
INSERT INTO jobs VALUES (1, 'x');
