CREATE TABLE visits (id bigint PRIMARY KEY, page text);
CREATE MATERIALIZED VIEW page_visits WITH (fillfactor = 70, autovacuum_enabled = false) AS SELECT page, count(*) AS n FROM visits GROUP BY page;
