-- Each user table's storage file: a change of relfilenode means the table was rewritten.
SELECT c.oid, c.relnamespace::regnamespace::text || '.' || quote_ident(c.relname), c.relfilenode
FROM pg_class c
WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  AND c.relkind IN ('r', 'p')
