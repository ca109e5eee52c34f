-- Every partition below each managed partitioned table (partitions of partitions too),
-- parents before their children, for building a partitioned index piece by piece.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       pn.nspname AS partition_schema,
       pc.relname AS partition_name,
       qn.nspname AS parent_schema,
       qc.relname AS parent_name,
       pc.relkind = 'p' AS partitioned
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind = 'p'
CROSS JOIN LATERAL pg_partition_tree(c.oid) AS t
JOIN pg_class pc ON pc.oid = t.relid
JOIN pg_namespace pn ON pn.oid = pc.relnamespace
JOIN pg_class qc ON qc.oid = t.parentrelid
JOIN pg_namespace qn ON qn.oid = qc.relnamespace
WHERE t.level > 0
ORDER BY 1, 2, t.level, 3, 4
