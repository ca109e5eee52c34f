-- Rules (not a view's own) on tables, and routines with a BEGIN ATOMIC body, that read a
-- column of a managed table: PostgreSQL refuses a type change of that column while they
-- exist, so it drops them and makes them again around it. What it takes to make one
-- again as it is (pg_get_ruledef / pg_get_functiondef, names qualified: search_path is
-- pg_catalog; comment; a routine's owner and grants), the columns it reads, and whether
-- anything depends on a routine (then it cannot be dropped alone: left in place).
WITH managed AS (
    SELECT c.oid
    FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
    JOIN pg_namespace n ON n.nspname = m.schema
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind IN ('r', 'p')
), reading AS (
    SELECT DISTINCT d.classid, d.objid
    FROM pg_depend d
    JOIN managed ON d.refobjid = managed.oid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
      AND d.classid IN ('pg_rewrite'::regclass, 'pg_proc'::regclass)
), columns_read AS (
    SELECT reading.classid, reading.objid,
           array_agg(DISTINCT ARRAY[rn.nspname::text, rc.relname::text, a.attname::text])
               AS reads
    FROM reading
    JOIN pg_depend d ON d.classid = reading.classid AND d.objid = reading.objid
    JOIN pg_class rc ON rc.oid = d.refobjid
    JOIN pg_namespace rn ON rn.oid = rc.relnamespace
    JOIN pg_attribute a ON a.attrelid = rc.oid AND a.attnum = d.refobjsubid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
    GROUP BY reading.classid, reading.objid
)
SELECT 'rule' AS kind,
       tn.nspname AS schema,
       t.relname AS table_name,
       r.rulename AS name,
       '' AS arguments,
       pg_get_ruledef(r.oid) AS definition,
       (SELECT ds.description FROM pg_description ds
        WHERE ds.objoid = r.oid AND ds.classoid = 'pg_rewrite'::regclass) AS comment,
       '' AS owner,
       NULL::text[] AS grants,
       false AS blocked,
       reading.reads
FROM columns_read AS reading
JOIN pg_rewrite r ON reading.classid = 'pg_rewrite'::regclass AND r.oid = reading.objid
                 AND r.rulename <> '_RETURN'
JOIN pg_class t ON t.oid = r.ev_class AND t.relkind IN ('r', 'p')
JOIN pg_namespace tn ON tn.oid = t.relnamespace
UNION ALL
SELECT CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END,
       pn.nspname,
       '',
       p.proname,
       pg_get_function_identity_arguments(p.oid),
       pg_get_functiondef(p.oid),
       obj_description(p.oid, 'pg_proc'),
       pg_get_userbyid(p.proowner)::text,
       CASE WHEN p.proacl IS NOT NULL THEN
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                               || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END,
                          a.privilege_type]
             FROM aclexplode(p.proacl) AS a
             WHERE a.grantee <> p.proowner
             ORDER BY a.grantee, a.privilege_type) END,
       EXISTS (SELECT 1 FROM pg_depend d
               WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
                 AND d.deptype = 'n'),
       reading.reads
FROM columns_read AS reading
JOIN pg_proc p ON reading.classid = 'pg_proc'::regclass AND p.oid = reading.objid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
ORDER BY 1, 2, 3, 4
