CREATE TABLE events (id bigint PRIMARY KEY, kind text);
CREATE VIEW clicks AS SELECT id FROM events WHERE kind = 'click';
CREATE VIEW old_report AS SELECT kind, count(*) AS n FROM events GROUP BY kind;
CREATE VIEW old_report_top AS SELECT kind FROM old_report WHERE n > 10;
