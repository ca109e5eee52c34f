-- Every regular or partitioned table of the given schemas (for dump), partitions included.
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s::text[]) AND c.relkind IN ('r', 'p')
ORDER BY 1, 2
