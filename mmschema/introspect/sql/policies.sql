-- Row level security policies on the managed tables (not managed themselves), with what
-- it takes to create one again as it is and the columns it reads.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       p.polname AS name,
       p.polpermissive AS permissive,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END
             FROM unnest(p.polroles) AS r ORDER BY 1) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr,
       ARRAY(SELECT DISTINCT a.attname::text
             FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
               AND d.refobjid = c.oid AND d.refobjsubid > 0) AS reads
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind IN ('r', 'p')
JOIN pg_policy p ON p.polrelid = c.oid
ORDER BY 1, 2, 3
