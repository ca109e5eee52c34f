CREATE TABLE clicks (id bigint PRIMARY KEY, page text);
CREATE MATERIALIZED VIEW page_counts AS SELECT page, count(*) AS n FROM clicks GROUP BY page;
CREATE VIEW popular_pages AS SELECT page FROM page_counts WHERE n > 100;
CREATE MATERIALIZED VIEW old_pages AS SELECT DISTINCT page FROM clicks;
