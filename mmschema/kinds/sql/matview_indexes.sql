-- Indexes of the materialized views named (schema, name arrays), in the shape of
-- introspect's index rows (a materialized view has no constraints and no partitions).
SELECT n.nspname AS schema,
       c.relname AS table_name,
       ic.relname AS name,
       i.indisunique AS is_unique,
       i.indisvalid AS valid,
       false AS building,
       am.amname AS method,
       i.indnkeyatts::int AS key_count,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       coalesce(ic.reloptions, '{}') AS reloptions,
       NULL::text AS constraint_type,
       NULL::text AS constraint_name,
       coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct,
       obj_description(ic.oid, 'pg_class') AS comment,
       false AS attached,
       '{}'::text[] AS parts,
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
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind = 'm'
JOIN pg_index i ON i.indrelid = c.oid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
ORDER BY 1, 2, 3
