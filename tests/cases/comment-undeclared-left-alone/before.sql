CREATE TABLE notes (id integer PRIMARY KEY, body text);
COMMENT ON TABLE notes IS 'kept: the file does not give a comment';
CREATE TABLE drafts (id integer PRIMARY KEY);
COMMENT ON TABLE drafts IS 'old';
