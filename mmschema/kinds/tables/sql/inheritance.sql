-- Table inheritance (INHERITS, not partitioning) around these tables: one row per pair in
-- which one of them is the inheriting table (child) or the inherited one (parent).
SELECT cn.nspname::text AS child_schema, c.relname::text AS child_name,
       pn.nspname::text AS parent_schema, p.relname::text AS parent_name
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class p ON p.oid = i.inhparent
JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE NOT c.relispartition AND c.relkind IN ('r', 'p', 'f')
  AND ((cn.nspname, c.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[]))
       OR (pn.nspname, p.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[])))
ORDER BY 1, 2, 3, 4
