CREATE TABLE events (id bigint PRIMARY KEY, kind text, at timestamptz);
CREATE MATERIALIZED VIEW daily AS SELECT kind, date_trunc('day', at) AS day, count(*) AS n FROM events GROUP BY 1, 2;
CREATE INDEX daily_kind ON daily (kind);
CREATE INDEX daily_day ON daily (day);
CREATE INDEX daily_n ON daily (n);
COMMENT ON MATERIALIZED VIEW daily IS 'old';
