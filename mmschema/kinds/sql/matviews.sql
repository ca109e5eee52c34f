-- Materialized views: those named (schema, name arrays) and every one of the schemas in
-- %(schemas_all)s, with what decides equality (pg_get_viewdef, comment; the caller pins
-- search_path to pg_catalog), whether it holds data, its storage options, the relations it
-- reads, and the views and materialized views reading it, directly or further down
-- (deepest first, as [schema, name, relkind]).
WITH RECURSIVE chosen AS (
    SELECT c.oid
    FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
    JOIN pg_namespace n ON n.nspname = m.schema
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind = 'm'
    UNION
    SELECT c.oid
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' AND n.nspname = ANY(%(schemas_all)s::text[])
), edges AS (
    SELECT DISTINCT r.ev_class AS reader, d.refobjid AS read
    FROM pg_depend d
    JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
    JOIN pg_class t ON t.oid = d.refobjid AND t.relkind IN ('v', 'm')
    WHERE d.refclassid = 'pg_class'::regclass AND r.ev_class <> d.refobjid
), readers AS (
    SELECT e.read AS view_oid, e.reader, 1 AS depth
    FROM edges e WHERE e.read IN (SELECT oid FROM chosen)
    UNION
    SELECT r.view_oid, e.reader, r.depth + 1
    FROM readers r JOIN edges e ON e.read = r.reader
    WHERE r.depth < 32
)
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       pg_get_viewdef(c.oid, true) AS query,
       c.relispopulated AS populated,
       coalesce(c.reloptions, '{}') AS options,
       obj_description(c.oid, 'pg_class') AS comment,
       pg_get_userbyid(c.relowner)::text AS owner,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE quote_ident(pg_get_userbyid(a.grantee)) END
                               || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END,
                          a.privilege_type]
             FROM aclexplode(c.relacl) AS a
             WHERE a.grantee <> c.relowner
             ORDER BY a.grantee, a.privilege_type) AS grants,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS column_names,
       ARRAY(SELECT DISTINCT ARRAY[rn.nspname::text, rc.relname::text]
             FROM pg_depend d
             JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
             JOIN pg_class rc ON rc.oid = d.refobjid AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')
             JOIN pg_namespace rn ON rn.oid = rc.relnamespace
             WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass
               AND d.refobjid <> c.oid) AS reads,
       ARRAY(SELECT ARRAY[vn.nspname::text, v.relname::text, v.relkind::text]
             FROM (SELECT reader, max(depth) AS depth FROM readers
                   WHERE view_oid = c.oid GROUP BY reader) AS r
             JOIN pg_class v ON v.oid = r.reader
             JOIN pg_namespace vn ON vn.oid = v.relnamespace
             ORDER BY r.depth DESC, vn.nspname, v.relname) AS readers
FROM chosen
JOIN pg_class c ON c.oid = chosen.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY 1, 2
