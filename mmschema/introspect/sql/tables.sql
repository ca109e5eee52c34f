-- Managed tables by (schema, name); regular and partitioned tables only.
SELECT n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS kind,
       obj_description(c.oid, 'pg_class') AS comment
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name
WHERE c.relkind IN ('r', 'p')
ORDER BY 1, 2
