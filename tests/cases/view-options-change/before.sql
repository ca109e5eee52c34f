CREATE TABLE notes (id bigint PRIMARY KEY, body text);
CREATE VIEW public_notes AS SELECT id, body FROM notes;
CREATE VIEW barrier_notes WITH (security_barrier) AS SELECT id FROM notes;
