CREATE TABLE orders (
    id bigint NOT NULL,
    placed_on date NOT NULL,
    symbol text
) PARTITION BY RANGE (placed_on);
CREATE TABLE orders_2025h1 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2025-07-01');
CREATE TABLE orders_2025h2 PARTITION OF orders FOR VALUES FROM ('2025-07-01') TO ('2026-01-01');
CREATE TABLE orders_old PARTITION OF orders FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE INDEX orders_2025h1_symbol ON orders_2025h1 (symbol);
INSERT INTO orders VALUES (1, '2025-02-01', 'BTC'), (2, '2025-08-01', 'ETH'), (3, '2020-05-05', 'XRP');
