CREATE TABLE orders (id text PRIMARY KEY, symbol text);
CREATE TABLE migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamp DEFAULT now()
);
INSERT INTO migrations VALUES ('001', 'add-multi-pair-support');
