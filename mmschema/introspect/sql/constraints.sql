-- UNIQUE, FOREIGN KEY, CHECK and EXCLUDE constraints of the managed tables (primary keys come with
-- indexes), and the foreign keys of other tables that reference a managed table.
-- UNION: a key between two managed tables is found from both of them.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       con.conname AS name,
       con.contype::text AS kind,
       con.condeferrable AS deferrable,
       con.condeferred AS initially_deferred,
       con.convalidated AS valid,
       con.connoinherit AS no_inherit,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, pos)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.pos) AS columns,
       fn.nspname AS ref_schema,
       fc.relname AS ref_table,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, pos)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.pos) AS ref_columns,
       con.confdeltype::text AS on_delete,
       con.confupdtype::text AS on_update,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid)
            WHEN con.contype = 'x' THEN pg_get_constraintdef(con.oid) END AS expression,
       coalesce((SELECT (to_jsonb(i) ->> 'indnullsnotdistinct')::boolean
                 FROM pg_index i WHERE i.indexrelid = con.conindid), false) AS nulls_not_distinct
FROM (
       -- Two joins, not one with OR: each can use pg_constraint's index or one hash join.
       WITH managed AS (
         SELECT mc.oid
         FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
         JOIN pg_namespace mn ON mn.nspname = m.schema
         JOIN pg_class mc ON mc.relnamespace = mn.oid AND mc.relname = m.name
                         AND mc.relkind IN ('r', 'p'))
       SELECT own.oid FROM managed
       JOIN pg_constraint own ON own.conrelid = managed.oid AND own.contype IN ('u', 'f', 'c', 'x')
       UNION
       SELECT inbound.oid FROM managed
       JOIN pg_constraint inbound ON inbound.confrelid = managed.oid AND inbound.contype = 'f'
     ) AS found
JOIN pg_constraint con ON con.oid = found.oid
  AND con.conparentid = 0  -- not a partition's clone of its parent's key
  AND (con.contype <> 'c' OR con.conislocal)  -- nor a check it inherits
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
ORDER BY 1, 2, 3
