-- Objects that depend on a managed table (column_name NULL) or on one of its columns and
-- that DROP TABLE / DROP COLUMN refuse to drop without CASCADE (policies, views,
-- triggers...): normal dependencies only. The table's own indexes, constraints and
-- statistics go with it; foreign keys of other tables are dropped before, by name.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       a.attname::text AS column_name,
       pg_describe_object(d.classid, d.objid, d.objsubid) AS dependent
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind IN ('r', 'p')
JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                AND d.deptype = 'n'
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
WHERE NOT (d.classid = 'pg_class'::regclass AND d.objid = c.oid)
  AND NOT (d.classid = 'pg_constraint'::regclass
           AND EXISTS (SELECT 1 FROM pg_constraint k
                       WHERE k.oid = d.objid AND (k.conrelid = c.oid OR k.contype = 'f')))
ORDER BY 1, 2, 3 NULLS FIRST, 4
