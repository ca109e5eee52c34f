-- Row level security policies: those named ([schema, table, policy] as three arrays) and
-- every one on the tables of the schemas in %(schemas_all)s, the caller pinning
-- search_path to pg_catalog so that pg_get_expr qualifies every name. Roles sorted by
-- name, 'public' for PUBLIC (role 0).
SELECT n.nspname::text AS schema,
       c.relname::text AS table_name,
       p.polname::text AS name,
       p.polpermissive AS permissive,
       CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert' WHEN 'w' THEN 'update'
                     WHEN 'd' THEN 'delete' ELSE 'all' END AS command,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END
             FROM unnest(p.polroles) AS r ORDER BY 1) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr,
       obj_description(p.oid, 'pg_policy') AS comment
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (n.nspname, c.relname, p.polname) IN (
        SELECT * FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(names)s::text[]))
   OR n.nspname = ANY(%(schemas_all)s::text[])
ORDER BY 1, 2, 3
