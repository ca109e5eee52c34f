-- UNIQUE, FOREIGN KEY, CHECK and EXCLUDE constraints of the managed tables (by oid;
-- primary keys come with indexes: here only for their comment), each with its comment, and
-- the foreign keys of other tables that reference a managed table (inbound: those alone
-- carry their table's schema and name; a managed table's own are known by oid). One scan:
-- confrelid has no index, so a lookup of the inbound keys would scan pg_constraint anyway.
-- The NULLS NOT DISTINCT flag exists from PostgreSQL 15 on (see indexes.sql).
SELECT con.conrelid AS oid,
       CASE WHEN found.inbound THEN
         (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.oid = con.conrelid) END AS schema,
       CASE WHEN found.inbound THEN
         (SELECT c.relname FROM pg_class c WHERE c.oid = con.conrelid) END AS table_name,
       con.conname AS name,
       con.contype::text AS kind,
       con.condeferrable AS deferrable,
       con.condeferred AS initially_deferred,
       con.convalidated AS valid,
       con.connoinherit AS no_inherit,
       CASE WHEN con.contype IN ('u', 'f') THEN
         ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                       WHERE a.attrelid = con.conrelid AND a.attnum = k.attnum)
               FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, pos)
               ORDER BY k.pos) END AS columns,
       fn.nspname AS ref_schema,
       fc.relname AS ref_table,
       CASE WHEN con.contype = 'f' THEN
         ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                       WHERE a.attrelid = con.confrelid AND a.attnum = k.attnum)
               FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, pos)
               ORDER BY k.pos) END AS ref_columns,
       con.confdeltype::text AS on_delete,
       con.confupdtype::text AS on_update,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid)
            WHEN con.contype = 'x' THEN pg_get_constraintdef(con.oid) END AS expression,
       CASE WHEN con.contype = 'u' THEN
         coalesce((SELECT false /* 15: i.indnullsnotdistinct */
                   FROM pg_index i WHERE i.indexrelid = con.conindid), false)
       ELSE false END AS nulls_not_distinct,
       (SELECT ds.description FROM pg_description ds
        WHERE ds.objoid = con.oid AND ds.classoid = 'pg_constraint'::regclass
          AND ds.objsubid = 0) AS comment
FROM pg_constraint con
CROSS JOIN LATERAL (SELECT NOT con.conrelid = ANY(%(oids)s::oid[]) AS inbound) AS found
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE ((con.conrelid = ANY(%(oids)s::oid[]) AND con.contype IN ('u', 'f', 'c', 'x', 'p'))
       OR (con.confrelid = ANY(%(oids)s::oid[]) AND con.contype = 'f'))
  AND con.conparentid = 0  -- not a partition's clone of its parent's key
  AND (con.contype <> 'c' OR con.conislocal)  -- nor a check it inherits
ORDER BY 2, 3, 1, 4
