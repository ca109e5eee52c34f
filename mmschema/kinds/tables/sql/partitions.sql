-- Every partition below each managed partitioned table (by oid; partitions of partitions
-- too), parents before their children, for building a partitioned index piece by piece.
SELECT c.oid,
       pn.nspname AS partition_schema,
       pc.relname AS partition_name,
       qn.nspname AS parent_schema,
       qc.relname AS parent_name,
       pc.relkind = 'p' AS partitioned
FROM pg_class c
CROSS JOIN LATERAL pg_partition_tree(c.oid) AS t
JOIN pg_class pc ON pc.oid = t.relid
JOIN pg_namespace pn ON pn.oid = pc.relnamespace
JOIN pg_class qc ON qc.oid = t.parentrelid
JOIN pg_namespace qn ON qn.oid = qc.relnamespace
WHERE c.oid = ANY(%(oids)s::oid[]) AND t.level > 0
ORDER BY c.oid, t.level, 2, 3
