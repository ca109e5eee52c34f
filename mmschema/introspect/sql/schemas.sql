-- Schemas that exist (so that a table in a new schema creates it).
SELECT nspname AS name FROM pg_namespace ORDER BY 1
