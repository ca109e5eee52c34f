-- Managed tables by (schema, name); regular and partitioned tables only, with the
-- partition key of a partitioned table, the parent and bound of a partition, and the
-- table's persistence, row level security and replica identity. Their oids are what the
-- other statements of the read take.
SELECT c.oid,
       n.nspname AS schema,
       c.relname AS name,
       ds.description AS comment,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by,
       pn.nspname AS parent_schema,
       pc.relname AS parent_name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       c.relpersistence = 'u' AS unlogged,
       CASE WHEN c.relforcerowsecurity AND c.relrowsecurity THEN 'forced'
            WHEN c.relrowsecurity THEN 'on'
            WHEN c.relforcerowsecurity THEN 'force_only' ELSE 'off' END AS row_security,
       CASE c.relreplident
         WHEN 'f' THEN 'full' WHEN 'n' THEN 'nothing'
         WHEN 'i' THEN 'index:' || coalesce((SELECT ri.relname FROM pg_index x
                                             JOIN pg_class ri ON ri.oid = x.indexrelid
                                             WHERE x.indrelid = c.oid AND x.indisreplident), '')
         ELSE 'default' END AS replica_identity
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name
LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass
                           AND ds.objsubid = 0
LEFT JOIN pg_inherits inh ON c.relispartition AND inh.inhrelid = c.oid
LEFT JOIN pg_class pc ON pc.oid = inh.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE c.relkind IN ('r', 'p')
ORDER BY 2, 3
