-- The domains named (schema and name side by side) or in the schemas dumped: base type,
-- default, NOT NULL, collation when not the base type's, CHECK constraints (name, definition
-- without NOT VALID, validated), and the table columns that hold values of each.
SELECT n.nspname AS schema,
       t.typname AS name,
       format_type(t.typbasetype, t.typtypmod) AS base_type,
       t.typdefault AS "default",
       t.typnotnull AS not_null,
       (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN co.collname
                    ELSE cn.nspname || '.' || co.collname END
          FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
         WHERE co.oid = t.typcollation AND t.typcollation <> b.typcollation) AS collation,
       ARRAY(SELECT ARRAY[c.conname::text,
                          regexp_replace(pg_get_constraintdef(c.oid), ' NOT VALID$', ''),
                          c.convalidated::text]
               FROM pg_constraint c
              WHERE c.contypid = t.oid AND c.contype = 'c'
              ORDER BY c.conname) AS checks,
       ARRAY(SELECT ARRAY[rn.nspname, r.relname, a.attname]
               FROM pg_attribute a
               JOIN pg_class r ON r.oid = a.attrelid
               JOIN pg_namespace rn ON rn.oid = r.relnamespace
              WHERE a.atttypid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND r.relkind IN ('r', 'm')
              ORDER BY 1) AS users,
       obj_description(t.oid, 'pg_type') AS comment
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_type b ON b.oid = t.typbasetype
 WHERE t.typtype = 'd'
   AND (EXISTS (SELECT FROM unnest(%(schemas_named)s::text[], %(names)s::text[]) AS w(s, o)
                 WHERE w.s = n.nspname AND w.o = t.typname)
        OR n.nspname = ANY(%(schemas)s::text[]))
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY 1, 2
