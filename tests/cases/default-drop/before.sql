CREATE TABLE orders (
    id text PRIMARY KEY,
    status text NOT NULL DEFAULT 'open',
    created_at timestamptz DEFAULT now(),
    size numeric DEFAULT 0
);
INSERT INTO orders (id) VALUES ('o1');
