-- Indexes of the managed tables, one row each, keys as parallel arrays.
-- attached: the index is a partition's part of its parent's index. indnullsnotdistinct exists from PostgreSQL 15 on, hence the to_jsonb lookup.
SELECT n.nspname AS schema,
       c.relname AS table_name,
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
       coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct,
       obj_description(ic.oid, 'pg_class') AS comment,
       ic.relispartition AS attached,
       -- the parts attached to a partitioned index, at every level below it:
       -- (partition schema, partition, index, valid)
       CASE WHEN c.relkind = 'p' THEN
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
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnatts::int) AS k ORDER BY k) AS key_defs,
       ARRAY(SELECT coalesce(att.attname, '')
             FROM generate_series(0, i.indnatts - 1) AS k
             LEFT JOIN pg_attribute att
               ON att.attrelid = i.indrelid AND att.attnum = i.indkey[k] AND i.indkey[k] > 0
             ORDER BY k) AS key_columns,
       ARRAY(SELECT CASE WHEN opc.opcdefault THEN '' ELSE opc.opcname END
             FROM generate_series(0, i.indnkeyatts - 1) AS k
             JOIN pg_opclass opc ON opc.oid = i.indclass[k]
             ORDER BY k) AS opclasses,
       ARRAY(SELECT i.indoption[k]::int
             FROM generate_series(0, i.indnkeyatts - 1) AS k ORDER BY k) AS key_options,
       ARRAY(SELECT CASE
                      WHEN i.indcollation[k] = 0 THEN ''
                      WHEN i.indkey[k] > 0 AND i.indcollation[k] = att.attcollation THEN ''
                      WHEN i.indkey[k] = 0 AND i.indcollation[k] = 100 THEN ''
                      ELSE coll.collname END
             FROM generate_series(0, i.indnkeyatts - 1) AS k
             LEFT JOIN pg_attribute att
               ON att.attrelid = i.indrelid AND att.attnum = i.indkey[k] AND i.indkey[k] > 0
             LEFT JOIN pg_collation coll ON coll.oid = i.indcollation[k]
             ORDER BY k) AS collations
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind IN ('r', 'p')
JOIN pg_index i ON i.indrelid = c.oid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                            AND con.contype IN ('p', 'u', 'x')
ORDER BY 1, 2, 3
