-- Per managed table, for online type changes: its estimated rows (from reltuples, or its
-- size where it was never analyzed), the sync triggers an online type change installed,
-- and the sequences its columns own (column, then the quoted schema.sequence).
SELECT n.nspname, c.relname,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
            ELSE pg_relation_size(c.oid) / 64 END AS rows,
       ARRAY(SELECT t.tgname::text FROM pg_trigger t
             WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
               AND t.tgname LIKE '\_mms\_sync\_%%' ORDER BY 1) AS triggers,
       ARRAY(SELECT a.attname || ' ' || quote_ident(sn.nspname) || '.' || quote_ident(s.relname)
             FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
             JOIN pg_class s ON s.oid = d.objid
             JOIN pg_namespace sn ON sn.oid = s.relnamespace
             WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
               AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
               AND d.refobjsubid > 0 AND s.relkind = 'S'
             ORDER BY 1) AS owned_sequences
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema_name, table_name)
  ON n.nspname = m.schema_name AND c.relname = m.table_name
WHERE c.relkind IN ('r', 'p')
