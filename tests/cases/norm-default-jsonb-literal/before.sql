CREATE TABLE sessions (
    id text PRIMARY KEY,
    pairs jsonb NOT NULL DEFAULT '[]'::jsonb,
    meta jsonb DEFAULT '{}',
    tags text[] DEFAULT '{}'
);
INSERT INTO sessions (id) VALUES ('s1');
