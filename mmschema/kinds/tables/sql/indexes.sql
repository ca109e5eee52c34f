-- Indexes of the managed tables (by oid), one row each, with their keys: the standalone
-- ones and the primary keys' (those of unique and exclusion constraints are not read).
-- attached: the index is a partition's part of its parent's index (a key: its clone).
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
       -- a key's index attached to a parent's index is the parent's only when the key is a
       -- clone of the parent's key (a partition's own key can sit under a unique index)
       CASE WHEN con.oid IS NULL THEN ic.relispartition ELSE con.conparentid <> 0 END
         AS attached,
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
       -- every key: [column name or '', expression or '', opclass if not the default,
       -- indoption, collation if not the column's or the default], INCLUDE columns last
       ARRAY(SELECT ARRAY[CASE WHEN k.attnum = 0 THEN '' ELSE
                            (SELECT att.attname::text FROM pg_attribute att
                             WHERE att.attrelid = i.indrelid AND att.attnum = k.attnum) END,
                          CASE WHEN k.attnum = 0
                               THEN pg_get_indexdef(i.indexrelid, k.pos::int, true) ELSE '' END,
                          -- looked up only when not a default one (pg_opclass is scanned)
                          CASE WHEN k.opclass = ANY(nondefault.opclasses)
                               THEN (SELECT opc.opcname::text FROM pg_opclass opc
                                     WHERE opc.oid = k.opclass)
                               ELSE '' END,
                          coalesce(k.option::text, '0'),
                          CASE WHEN k.coll IS NULL OR k.coll = 0 THEN ''
                               WHEN k.attnum = 0 AND k.coll = 100 THEN ''
                               WHEN k.attnum > 0
                                AND k.coll = (SELECT att.attcollation FROM pg_attribute att
                                              WHERE att.attrelid = i.indrelid
                                                AND att.attnum = k.attnum) THEN ''
                               ELSE (SELECT co.collname::text FROM pg_collation co
                                     WHERE co.oid = k.coll) END]
             FROM unnest(i.indkey::int2[], i.indclass::oid[], i.indoption::int2[],
                         i.indcollation::oid[]) WITH ORDINALITY AS k(attnum, opclass, option, coll, pos)
             ORDER BY k.pos) AS keys,
       ic.relispartition AS under_parent_index  -- a part of a parent's index, key or not
FROM pg_index i
CROSS JOIN (SELECT array_agg(oid) AS opclasses FROM pg_opclass WHERE NOT opcdefault) AS nondefault
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                            AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_description ds ON ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass
                           AND ds.objsubid = 0
WHERE i.indrelid = ANY(%(oids)s::oid[])
  AND (con.oid IS NULL OR con.contype = 'p')  -- a unique's or exclusion's: constraints.sql
ORDER BY i.indrelid, ic.relname
