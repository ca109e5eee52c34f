-- The sequences these tables' columns own, identity ('i') or serial ('a', OWNED BY):
-- (schema, table, column, sequence name).
SELECT c.schema, c.tbl, a.attname, s.relname
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS c(schema, tbl)
JOIN pg_attribute a ON a.attrelid = to_regclass(format('%%I.%%I', c.schema, c.tbl))
     AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
     AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass AND d.deptype IN ('i', 'a')
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
