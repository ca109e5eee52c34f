CREATE TABLE notes (id bigint PRIMARY KEY, author text, body text);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON notes USING (author = current_user);
CREATE POLICY writable ON notes FOR INSERT WITH CHECK (author = current_user);
CREATE POLICY checked ON notes FOR UPDATE USING (true) WITH CHECK (body <> '');
CREATE POLICY old_name ON notes FOR DELETE USING (author = current_user);
