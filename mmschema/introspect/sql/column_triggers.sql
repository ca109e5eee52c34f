-- Triggers of the managed tables that read one of its columns (UPDATE OF, WHEN), neither
-- a partition's clone of its parent's nor mmschema's own: what it takes to create one
-- again as it is (pg_get_triggerdef, names qualified: search_path is pg_catalog; enabled
-- state; comment) and the columns it reads. A type change of such a column must drop and
-- make it again.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       t.tgname AS name,
       pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS enabled,
       (SELECT ds.description FROM pg_description ds
        WHERE ds.objoid = t.oid AND ds.classoid = 'pg_trigger'::regclass) AS comment,
       ARRAY(SELECT DISTINCT a.attname::text
             FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
               AND d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
               AND d.refobjsubid > 0) AS reads
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind IN ('r', 'p')
JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal AND t.tgparentid = 0
  AND left(t.tgname, 10) <> '_mms_sync_'  -- an online type change's own (expand.py)
WHERE EXISTS (SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
                AND d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                AND d.refobjsubid > 0)
ORDER BY 1, 2, 3
