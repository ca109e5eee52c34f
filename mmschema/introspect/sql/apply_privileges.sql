-- What the current role may do for a plan: per named table (by regclass text), whether it
-- exists, its owner, and whether the role acts as that owner (ALTER, DROP, CREATE INDEX need
-- it) or may reference it; per named schema, whether it exists and the role may CREATE in
-- it; per named type, its owner and whether the role acts as it; per named role, whether
-- the role is a member of it (ALTER ... OWNER TO it, ALTER DEFAULT PRIVILEGES FOR it) and,
-- in the last column, whether it is a superuser; and the database's.
SELECT 'table', t.name, c.oid IS NOT NULL, coalesce(pg_get_userbyid(c.relowner), ''),
       coalesce(pg_has_role(c.relowner, 'USAGE'), false),
       coalesce(has_table_privilege(c.oid, 'REFERENCES'), false)
FROM unnest(%(tables)s::text[]) AS t(name)
LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
UNION ALL
SELECT 'schema', s.name, n.oid IS NOT NULL, coalesce(pg_get_userbyid(n.nspowner), ''),
       coalesce(has_schema_privilege(n.oid, 'CREATE'), false), false
FROM unnest(%(schemas)s::text[]) AS s(name)
LEFT JOIN pg_namespace n ON n.nspname = s.name
UNION ALL
SELECT 'type', y.name, ty.oid IS NOT NULL, coalesce(pg_get_userbyid(ty.typowner), ''),
       coalesce(pg_has_role(ty.typowner, 'USAGE'), false), false
FROM unnest(%(types)s::text[]) AS y(name)
LEFT JOIN pg_type ty ON ty.oid = to_regtype(y.name)
UNION ALL
SELECT 'role', o.name, r.oid IS NOT NULL, o.name,
       CASE WHEN r.oid IS NULL THEN false ELSE pg_has_role(r.oid, 'MEMBER') END,
       coalesce(r.rolsuper, false)
FROM unnest(%(roles)s::text[]) AS o(name)
LEFT JOIN pg_roles r ON r.rolname = o.name
UNION ALL
SELECT 'database', current_database(), true, pg_get_userbyid(d.datdba),
       has_database_privilege(d.oid, 'CREATE'), false
FROM pg_database d WHERE d.datname = current_database()
