-- The table locks one session holds (for rehearsals), by qualified table name.
SELECT c.relnamespace::regnamespace::text || '.' || quote_ident(c.relname), l.mode
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = %(pid)s AND l.locktype = 'relation' AND l.granted
  AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  AND c.relkind IN ('r', 'p')
