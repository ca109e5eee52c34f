-- Triggers of tables and views: those named ([schema, table, trigger] as three arrays) and
-- every one on the relations of the schemas in %(schemas_all)s, the caller pinning
-- search_path to pg_catalog so that pg_get_triggerdef qualifies every name. Internal
-- triggers (foreign keys, deferred uniqueness) and a partition's clones of its parent's
-- triggers are PostgreSQL's, never the file's.
SELECT n.nspname::text AS schema,
       c.relname::text AS table_name,
       t.tgname::text AS name,
       quote_ident(t.tgname) AS quoted_name,
       pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS enabled,
       obj_description(t.oid, 'pg_trigger') AS comment
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0
  AND ((n.nspname, c.relname, t.tgname) IN (
         SELECT * FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(names)s::text[]))
       OR n.nspname = ANY(%(schemas_all)s::text[]))
ORDER BY 1, 2, 3
