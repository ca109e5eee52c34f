CREATE TABLE orders (
    id bigint PRIMARY KEY,
    status text NOT NULL,
    price numeric
);
CREATE INDEX idx_orders_live ON orders (id) WHERE status IN ('open', 'partial');
CREATE INDEX idx_orders_priced ON orders (price) WHERE price > 0 AND status <> 'cancelled';
INSERT INTO orders VALUES (1, 'open', 10), (2, 'filled', 11);
