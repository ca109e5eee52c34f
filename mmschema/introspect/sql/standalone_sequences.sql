-- Of the sequences named by (schema, name), those no column owns (not a serial's or an
-- identity's): a rehearsal's copy makes them before its tables, whose defaults call them.
SELECT n.nspname, c.relname
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind = 'S'
WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
