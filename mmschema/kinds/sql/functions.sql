-- Functions and procedures: those of the named (schema, name) pairs, every overload, and
-- every one of the schemas in %(schemas_all)s (not an extension's, nor a range type's own
-- constructors, which depend on it internally), with what decides
-- equality (pg_get_functiondef, comment; the caller pins search_path to pg_catalog), the
-- fields dump writes, whether it reads a table or a table's row type (then it is created
-- after the tables), and what uses it: views, defaults, generated columns, checks and
-- other constraints, indexes, triggers, policies and other routines (pg_depend).
WITH chosen AS (
    SELECT p.oid
    FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
    JOIN pg_namespace n ON n.nspname = m.schema
    JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = m.name
    WHERE p.prokind IN ('f', 'p')
    UNION
    SELECT p.oid
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p') AND n.nspname = ANY(%(schemas_all)s::text[])
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                        AND e.deptype IN ('e', 'i'))
)
SELECT n.nspname::text AS schema,
       p.proname::text AS name,
       p.prokind = 'p' AS procedure,
       pg_get_function_identity_arguments(p.oid) AS identity,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       pg_get_functiondef(p.oid) AS definition,
       obj_description(p.oid, 'pg_proc') AS comment,
       pg_get_userbyid(p.proowner)::text AS owner,
       p.proacl IS NOT NULL AS own_grants,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                               || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END,
                          a.privilege_type]
             FROM aclexplode(p.proacl) AS a
             WHERE a.grantee <> p.proowner
             ORDER BY a.grantee, a.privilege_type) AS grants,
       l.lanname::text AS language,
       p.prosrc AS body,
       p.prosqlbody IS NOT NULL AS atomic,
       p.provolatile::text AS volatility,
       p.proisstrict AS strict,
       p.prosecdef AS security_definer,
       p.proleakproof AS leakproof,
       p.proparallel::text AS parallel,
       p.procost::float8 AS cost,
       p.prorows::float8 AS rows,
       p.proretset AS returns_set,
       coalesce(p.proconfig, '{}') AS config,
       EXISTS (SELECT 1 FROM pg_depend d
               LEFT JOIN pg_type t ON d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid
               WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                 AND (d.refclassid = 'pg_class'::regclass OR t.typrelid <> 0)) AS reads_tables,
       ARRAY(
           SELECT DISTINCT ARRAY[u.kind, u.schema, u.tab, u.name, u.definition]
           FROM pg_depend d
           CROSS JOIN LATERAL (
               SELECT CASE WHEN v.relkind = 'm' THEN 'materialized view' ELSE 'view' END
                          AS kind,
                      vn.nspname::text AS schema, NULL::text AS tab,
                      v.relname::text AS name, NULL::text AS definition
               FROM pg_rewrite r
               JOIN pg_class v ON v.oid = r.ev_class
               JOIN pg_namespace vn ON vn.oid = v.relnamespace
               WHERE d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
               UNION ALL
               SELECT CASE WHEN a.attgenerated <> '' THEN 'generated' ELSE 'default' END,
                      tn.nspname::text, t.relname::text, a.attname::text,
                      pg_get_expr(ad.adbin, ad.adrelid)
               FROM pg_attrdef ad
               JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
               JOIN pg_class t ON t.oid = ad.adrelid
               JOIN pg_namespace tn ON tn.oid = t.relnamespace
               WHERE d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
               UNION ALL
               SELECT CASE WHEN c.contype = 'c' THEN 'check' ELSE 'constraint' END,
                      cn.nspname::text, t.relname::text, c.conname::text,
                      pg_get_constraintdef(c.oid)
               FROM pg_constraint c
               JOIN pg_namespace cn ON cn.oid = c.connamespace
               LEFT JOIN pg_class t ON t.oid = c.conrelid
               WHERE d.classid = 'pg_constraint'::regclass AND c.oid = d.objid
               UNION ALL
               SELECT CASE WHEN i.relkind IN ('i', 'I') THEN 'index' ELSE 'relation' END,
                      iname.nspname::text, t.relname::text, i.relname::text,
                      CASE WHEN i.relkind IN ('i', 'I') THEN pg_get_indexdef(i.oid) END
               FROM pg_class i
               JOIN pg_namespace iname ON iname.oid = i.relnamespace
               LEFT JOIN pg_index x ON x.indexrelid = i.oid
               LEFT JOIN pg_class t ON t.oid = x.indrelid
               WHERE d.classid = 'pg_class'::regclass AND i.oid = d.objid
               UNION ALL
               SELECT 'trigger', tn.nspname::text, t.relname::text, g.tgname::text, NULL
               FROM pg_trigger g
               JOIN pg_class t ON t.oid = g.tgrelid
               JOIN pg_namespace tn ON tn.oid = t.relnamespace
               WHERE d.classid = 'pg_trigger'::regclass AND g.oid = d.objid
               UNION ALL
               SELECT 'policy', tn.nspname::text, t.relname::text, o.polname::text, NULL
               FROM pg_policy o
               JOIN pg_class t ON t.oid = o.polrelid
               JOIN pg_namespace tn ON tn.oid = t.relnamespace
               WHERE d.classid = 'pg_policy'::regclass AND o.oid = d.objid
               UNION ALL
               SELECT 'routine', rn.nspname::text, NULL, r.oid::regprocedure::text, NULL
               FROM pg_proc r
               JOIN pg_namespace rn ON rn.oid = r.pronamespace
               WHERE d.classid = 'pg_proc'::regclass AND r.oid = d.objid AND r.oid <> p.oid
           ) AS u
           WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
             AND d.deptype = 'n'
           ORDER BY 1
       ) AS users
FROM chosen
JOIN pg_proc p ON p.oid = chosen.oid
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
ORDER BY 1, 2, 4
