CREATE TABLE docs (
    id bigint PRIMARY KEY,
    title text,
    body jsonb
);
CREATE INDEX idx_docs_title ON docs (title);
CREATE INDEX idx_docs_body ON docs USING gin (body);
INSERT INTO docs VALUES (1, 'x', '{"a": 1}');
