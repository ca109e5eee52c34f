-- The schemas users keep tables in: all but PostgreSQL's own and mmschema's history.
SELECT nspname AS name
FROM pg_namespace
WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('information_schema', 'mmschema')
ORDER BY 1
