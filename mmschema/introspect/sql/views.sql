-- Views that read the managed tables (by oid), directly or through other views (level 1 reads a
-- managed table), with what it takes to create one again exactly as it is: its
-- definition (names qualified: search_path is pg_catalog), options, comment, owner and
-- grants; a materialized view's indexes and whether it is populated. rebuildable: a plain
-- view whose only rule is its own (no triggers on it).
-- Level 1 starts from the rules (one per view: few) and their dependencies, not from the
-- dependencies of the managed tables (every column default, sequence, index...).
WITH RECURSIVE reads AS (
    SELECT DISTINCT r.ev_class AS view_oid, 1 AS level
    FROM pg_rewrite r
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
    WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY(%(oids)s::oid[])
      AND r.ev_class <> d.refobjid
    UNION
    SELECT r.ev_class, reads.level + 1
    FROM reads
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = reads.view_oid
    JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
    WHERE r.ev_class <> d.refobjid AND reads.level < 32
)
SELECT n.nspname AS schema,
       v.relname AS name,
       v.relkind::text AS kind,
       max(reads.level) AS level,
       pg_get_viewdef(v.oid, true) AS definition,
       coalesce(v.reloptions, '{}') AS options,
       (SELECT ds.description FROM pg_description ds WHERE ds.objoid = v.oid
          AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0) AS comment,
       pg_get_userbyid(v.relowner) AS owner,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                               || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END,
                          a.privilege_type]
             FROM aclexplode(v.relacl) AS a
             WHERE a.grantee <> v.relowner
             ORDER BY a.grantee, a.privilege_type) AS grants,
       -- (schema, table, column) of every column of a relation it reads
       ARRAY(SELECT DISTINCT ARRAY[tn.nspname::text, t.relname::text, att.attname::text]
             FROM pg_rewrite r
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                             AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
             JOIN pg_class t ON t.oid = d.refobjid
             JOIN pg_namespace tn ON tn.oid = t.relnamespace
             JOIN pg_attribute att ON att.attrelid = t.oid AND att.attnum = d.refobjsubid
             WHERE r.ev_class = v.oid AND t.oid <> v.oid) AS reads,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
             WHERE i.indrelid = v.oid ORDER BY i.indexrelid) AS indexes,
       v.relispopulated AS populated,
       v.relkind = 'v'
         AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = v.oid)
         AND NOT EXISTS (SELECT 1 FROM pg_rewrite rr
                         WHERE rr.ev_class = v.oid AND rr.rulename <> '_RETURN')
         AS rebuildable
FROM reads
JOIN pg_class v ON v.oid = reads.view_oid
JOIN pg_namespace n ON n.oid = v.relnamespace
GROUP BY v.oid, n.nspname
ORDER BY 4, 1, 2
