-- The composite types (CREATE TYPE ... AS) named (schema and name side by side) or in the
-- schemas dumped: attributes in order (name, format_type, collation when not the type's),
-- and the table columns that hold values of each.
SELECT n.nspname AS schema,
       t.typname AS name,
       ARRAY(SELECT ARRAY[a.attname::text, format_type(a.atttypid, a.atttypmod),
                          coalesce((SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN co.collname
                                                ELSE cn.nspname || '.' || co.collname END
                                      FROM pg_collation co
                                      JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                      JOIN pg_type at ON at.oid = a.atttypid
                                     WHERE co.oid = a.attcollation
                                       AND a.attcollation <> at.typcollation), '')]
               FROM pg_attribute a
              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum) AS attributes,
       ARRAY(SELECT ARRAY[rn.nspname, r.relname, a.attname]
               FROM pg_attribute a
               JOIN pg_class r ON r.oid = a.attrelid
               JOIN pg_namespace rn ON rn.oid = r.relnamespace
              WHERE a.atttypid IN (t.oid, t.typarray) AND a.attnum > 0 AND NOT a.attisdropped
                AND r.relkind IN ('r', 'm', 'p')
              ORDER BY 1) AS users,
       obj_description(t.oid, 'pg_type') AS comment
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
 WHERE t.typtype = 'c'
   AND (EXISTS (SELECT FROM unnest(%(schemas_named)s::text[], %(names)s::text[]) AS w(s, o)
                 WHERE w.s = n.nspname AND w.o = t.typname)
        OR n.nspname = ANY(%(schemas)s::text[]))
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY 1, 2
