-- Relations of any kind by (schema, name), with their oids.
SELECT c.oid, n.nspname AS schema, c.relname AS name
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name
