CREATE TABLE documents (id bigint PRIMARY KEY, body text, changed_at timestamptz);
