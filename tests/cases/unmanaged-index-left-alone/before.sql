CREATE TABLE orders (
    id text PRIMARY KEY,
    sessionid text NOT NULL,
    status text NOT NULL DEFAULT 'open'
);
CREATE INDEX idx_orders_sessionid ON orders (sessionid);
CREATE INDEX idx_orders_legacy_status ON orders (status) WHERE status <> 'filled';
INSERT INTO orders VALUES ('o1', 's1', 'open'), ('o2', 's1', 'filled');
