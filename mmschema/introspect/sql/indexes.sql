-- Indexes of the managed tables (by oid), one row each, keys as parallel arrays.
-- attached: the index is a partition's part of its parent's index.
-- key_defs: pg_get_indexdef() of the expression keys only (a column key is its name).
-- The NULLS NOT DISTINCT flag exists from PostgreSQL 15 on: the marked `false` is
-- replaced by the column there (introspect.catalog_sql_for).
SELECT i.indrelid AS oid,
       ic.relname AS name,
       i.indisunique AS is_unique,
       i.indisvalid AS valid,
       -- an INVALID index that a CREATE INDEX is building right now is not a failed build
       -- (uncorrelated: the progress view is read once, not once per index)
       i.indexrelid IN (SELECT p.index_relid FROM pg_stat_progress_create_index p) AS building,
       am.amname AS method,
       i.indnkeyatts::int AS key_count,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       coalesce(ic.reloptions, '{}') AS reloptions,
       con.contype::text AS constraint_type,
       con.conname AS constraint_name,
       false /* 15: i.indnullsnotdistinct */ AS nulls_not_distinct,
       ds.description AS comment,
       ic.relispartition AS attached,
       -- the parts attached to a partitioned index, at every level below it:
       -- (partition schema, partition, index, valid)
       CASE WHEN ic.relkind = 'I' THEN
         ARRAY(SELECT ARRAY[pn.nspname::text, pt.relname::text, pi.relname::text,
                            px.indisvalid::text]
               FROM pg_partition_tree(i.indexrelid) AS t
               JOIN pg_class pi ON pi.oid = t.relid
               JOIN pg_index px ON px.indexrelid = pi.oid
               JOIN pg_class pt ON pt.oid = px.indrelid
               JOIN pg_namespace pn ON pn.oid = pt.relnamespace
               WHERE t.level > 0
               ORDER BY t.level, pn.nspname, pt.relname)
       ELSE '{}' END AS parts,
       keys.key_defs,
       keys.key_columns,
       keys.opclasses,
       keys.key_options,
       keys.collations
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                            AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_description ds ON ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass
                           AND ds.objsubid = 0
-- each key once, every lookup by its own catalog index (no join to rebuild per index)
CROSS JOIN LATERAL (
  SELECT array_agg(CASE WHEN k.attnum = 0 THEN pg_get_indexdef(i.indexrelid, k.pos::int, true)
                        ELSE '' END ORDER BY k.pos) AS key_defs,
         array_agg(CASE WHEN k.attnum = 0 THEN '' ELSE
                     (SELECT att.attname FROM pg_attribute att
                      WHERE att.attrelid = i.indrelid AND att.attnum = k.attnum) END
                   ORDER BY k.pos) AS key_columns,
         array_agg((SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname END
                    FROM pg_opclass opc WHERE opc.oid = k.opclass) ORDER BY k.pos)
           FILTER (WHERE k.pos <= i.indnkeyatts) AS opclasses,
         array_agg(k.option::int ORDER BY k.pos)
           FILTER (WHERE k.pos <= i.indnkeyatts) AS key_options,
         array_agg(CASE WHEN k.coll = 0 THEN ''
                        WHEN k.attnum = 0 AND k.coll = 100 THEN ''
                        WHEN k.attnum > 0 AND k.coll = (SELECT att.attcollation FROM pg_attribute att
                                                        WHERE att.attrelid = i.indrelid
                                                          AND att.attnum = k.attnum) THEN ''
                        ELSE (SELECT co.collname FROM pg_collation co WHERE co.oid = k.coll) END
                   ORDER BY k.pos) FILTER (WHERE k.pos <= i.indnkeyatts) AS collations
  FROM unnest(i.indkey::int2[], i.indclass::oid[], i.indoption::int2[], i.indcollation::oid[])
       WITH ORDINALITY AS k(attnum, opclass, option, coll, pos)
) AS keys
WHERE i.indrelid = ANY(%(oids)s::oid[])
ORDER BY i.indrelid, ic.relname
