CREATE TABLE fills (id bigint NOT NULL, symbol text NOT NULL, ts timestamptz NOT NULL, price numeric)
  PARTITION BY RANGE (ts);
CREATE TABLE fills_2026_10 PARTITION OF fills FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE fills_2026_11 PARTITION OF fills FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE INDEX fills_symbol ON fills (symbol);
CREATE INDEX fills_old ON fills (price);
INSERT INTO fills VALUES (1, 'BTC/USD', '2026-10-05', 1), (2, 'ETH/USD', '2026-11-05', 2);
