CREATE TABLE docs (
    id bigint PRIMARY KEY,
    body jsonb,
    score integer
);
CREATE INDEX idx_docs_score ON docs (score) WITH (fillfactor = 70);
CREATE INDEX idx_docs_body ON docs USING gin (body) WITH (fastupdate = false);
