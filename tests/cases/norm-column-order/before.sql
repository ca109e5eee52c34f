CREATE TABLE orders (
    id text PRIMARY KEY,
    sessionid text NOT NULL,
    symbol text NOT NULL,
    price numeric,
    created_at timestamptz DEFAULT now()
);
INSERT INTO orders VALUES ('o1', 's1', 'BTC/USD', 100);
