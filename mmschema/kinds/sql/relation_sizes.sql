-- The planner's row estimate and total size of the relations named (schema, name arrays)
-- that exist: what a materialized view built WITH DATA reads.
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       c.reltuples::bigint AS rows,
       pg_total_relation_size(c.oid) AS bytes
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name
WHERE c.relkind IN ('r', 'p', 'm')
