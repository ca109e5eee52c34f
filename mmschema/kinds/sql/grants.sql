-- Owners and privileges of the relations, routines, schemas and types named, as the catalog
-- holds them: aclexplode of relacl / proacl / nspacl / typacl (of acldefault when it is NULL:
-- the owner's privileges, and a routine's EXECUTE or a type's USAGE for PUBLIC) and of each
-- column's attacl. A grantee
-- is a role name or PUBLIC; each row: [grantee, privilege, column or '', grantable].
WITH rel AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relowner, c.relacl
    FROM unnest(%(rel_schemas)s::text[], %(rel_names)s::text[]) AS m(schema, name)
    JOIN pg_namespace n ON n.nspname = m.schema
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name
    WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
), fn AS (
    SELECT p.oid, n.nspname, p.proname, p.prokind, p.proowner, p.proacl
    FROM unnest(%(fn_schemas)s::text[], %(fn_names)s::text[]) AS m(schema, name)
    JOIN pg_namespace n ON n.nspname = m.schema
    JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = m.name
    WHERE p.prokind IN ('f', 'p')
), typ AS (
    SELECT t.oid, n.nspname, t.typname, t.typtype, t.typowner, t.typacl
    FROM unnest(%(type_schemas)s::text[], %(type_names)s::text[]) AS m(schema, name)
    JOIN pg_namespace n ON n.nspname = m.schema
    JOIN pg_type t ON t.typnamespace = n.oid AND t.typname = m.name
    WHERE t.typtype IN ('d', 'e', 'c', 'r')
)
SELECT 'relation' AS family, r.nspname::text AS schema, r.relname::text AS name,
       '' AS identity, r.relkind::text AS detail,
       pg_get_userbyid(r.relowner)::text AS owner,
       r.relacl IS NOT NULL OR EXISTS (
           SELECT FROM pg_attribute att
           WHERE att.attrelid = r.oid AND att.attnum > 0 AND att.attacl IS NOT NULL) AS own_acl,
       ARRAY(
           SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             ELSE pg_get_userbyid(a.grantee)::text END,
                        a.privilege_type, '', a.is_grantable::text]
           FROM aclexplode(coalesce(r.relacl, acldefault(
                    CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END::"char", r.relowner))) AS a
           UNION ALL
           SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             ELSE pg_get_userbyid(a.grantee)::text END,
                        a.privilege_type, att.attname::text, a.is_grantable::text]
           FROM pg_attribute att
           CROSS JOIN LATERAL aclexplode(att.attacl) AS a
           WHERE att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped
             AND att.attacl IS NOT NULL) AS grants
FROM rel r
UNION ALL
SELECT 'routine', f.nspname::text, f.proname::text,
       pg_get_function_identity_arguments(f.oid), f.prokind::text,
       pg_get_userbyid(f.proowner)::text,
       f.proacl IS NOT NULL,
       ARRAY(
           SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             ELSE pg_get_userbyid(a.grantee)::text END,
                        a.privilege_type, '', a.is_grantable::text]
           FROM aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) AS a)
FROM fn f
UNION ALL
SELECT 'schema', n.nspname::text, n.nspname::text, '', '',
       pg_get_userbyid(n.nspowner)::text,
       n.nspacl IS NOT NULL,
       ARRAY(
           SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             ELSE pg_get_userbyid(a.grantee)::text END,
                        a.privilege_type, '', a.is_grantable::text]
           FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a)
FROM pg_namespace n
WHERE n.nspname = ANY(%(schemas)s::text[])
UNION ALL
SELECT 'type', t.nspname::text, t.typname::text, '', t.typtype::text,
       pg_get_userbyid(t.typowner)::text,
       t.typacl IS NOT NULL,
       ARRAY(
           SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                             ELSE pg_get_userbyid(a.grantee)::text END,
                        a.privilege_type, '', a.is_grantable::text]
           FROM aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) AS a)
FROM typ t
