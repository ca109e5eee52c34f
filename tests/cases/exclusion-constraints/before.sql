CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE sessions (id int PRIMARY KEY, symbol text NOT NULL, starts timestamptz NOT NULL, ends timestamptz NOT NULL,
    CONSTRAINT one_per_symbol EXCLUDE USING gist (symbol WITH =, tstzrange(starts, ends) WITH &&));
CREATE TABLE quotes (id int PRIMARY KEY, venue text, valid_during tstzrange);
INSERT INTO quotes VALUES (1, 'a', '[2026-01-01,2026-01-02)'), (2, 'b', '[2026-01-01,2026-01-02)');
