-- UNIQUE, FOREIGN KEY, CHECK and EXCLUDE constraints of the managed tables (by oid;
-- primary keys come with indexes: here only for their comment), each with its comment, and
-- the foreign keys of other tables that reference a managed table. UNION: a key between
-- two managed tables is found from both of them.
-- The NULLS NOT DISTINCT flag exists from PostgreSQL 15 on (see indexes.sql).
SELECT n.nspname AS schema,
       c.relname AS table_name,
       con.conname AS name,
       con.contype::text AS kind,
       con.condeferrable AS deferrable,
       con.condeferred AS initially_deferred,
       con.convalidated AS valid,
       con.connoinherit AS no_inherit,
       ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                     WHERE a.attrelid = con.conrelid AND a.attnum = k.attnum)
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, pos)
             ORDER BY k.pos) AS columns,
       fn.nspname AS ref_schema,
       fc.relname AS ref_table,
       ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                     WHERE a.attrelid = con.confrelid AND a.attnum = k.attnum)
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, pos)
             ORDER BY k.pos) AS ref_columns,
       con.confdeltype::text AS on_delete,
       con.confupdtype::text AS on_update,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid)
            WHEN con.contype = 'x' THEN pg_get_constraintdef(con.oid) END AS expression,
       con.contype = 'u'
         AND coalesce((SELECT false /* 15: i.indnullsnotdistinct */
                       FROM pg_index i WHERE i.indexrelid = con.conindid), false)
         AS nulls_not_distinct,
       (SELECT ds.description FROM pg_description ds
        WHERE ds.objoid = con.oid AND ds.classoid = 'pg_constraint'::regclass
          AND ds.objsubid = 0) AS comment
FROM (
       -- Two lookups, not one join with OR: each uses one of pg_constraint's indexes.
       SELECT own.oid FROM pg_constraint own
       WHERE own.conrelid = ANY(%(oids)s::oid[]) AND own.contype IN ('u', 'f', 'c', 'x', 'p')
       UNION
       SELECT inbound.oid FROM pg_constraint inbound
       WHERE inbound.confrelid = ANY(%(oids)s::oid[]) AND inbound.contype = 'f'
     ) AS found
JOIN pg_constraint con ON con.oid = found.oid
  AND con.conparentid = 0  -- not a partition's clone of its parent's key
  AND (con.contype <> 'c' OR con.conislocal)  -- nor a check it inherits
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
ORDER BY 1, 2, 3
