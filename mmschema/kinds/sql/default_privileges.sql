-- Default privileges (ALTER DEFAULT PRIVILEGES) of the roles named, or, to dump, every
-- entry of all schemas and of the schemas in %(schemas)s; each entry: its role, its
-- schema ('' for all schemas), the object type ('r' tables, 'S' sequences, 'f' functions,
-- 'T' types, 'n' schemas) and [grantee, privilege, grantable] from aclexplode.
SELECT pg_get_userbyid(d.defaclrole)::text AS role,
       coalesce(n.nspname::text, '') AS schema,
       d.defaclobjtype::text AS objtype,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE pg_get_userbyid(a.grantee)::text END,
                          a.privilege_type, a.is_grantable::text]
             FROM aclexplode(d.defaclacl) AS a) AS grants
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
WHERE pg_get_userbyid(d.defaclrole) = ANY(%(roles)s::text[])
   OR (%(dump)s AND (d.defaclnamespace = 0 OR n.nspname = ANY(%(schemas)s::text[])))
ORDER BY 1, 2, 3
