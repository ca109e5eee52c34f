CREATE TABLE quotes (
    venue text NOT NULL,
    quoted_on date NOT NULL,
    bid numeric
) PARTITION BY RANGE (quoted_on);
CREATE TABLE quotes_2025 PARTITION OF quotes FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
