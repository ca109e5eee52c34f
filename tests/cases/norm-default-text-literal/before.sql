CREATE TABLE orders (
    id bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'::text,
    order_type varchar(10) DEFAULT 'limit',
    label text DEFAULT 'a' || 'b',
    created_at timestamptz NOT NULL DEFAULT now(),
    trade_date date DEFAULT CURRENT_DATE
);
INSERT INTO orders (id) VALUES (1);
