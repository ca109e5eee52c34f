CREATE TABLE sessions (
    id text PRIMARY KEY,
    settlesession boolean DEFAULT false,
    active boolean NOT NULL DEFAULT 'true'
);
INSERT INTO sessions (id) VALUES ('s1');
