CREATE TABLE counters (
    id serial PRIMARY KEY,
    big bigserial,
    name text
);
INSERT INTO counters (name) VALUES ('a'), ('b');
