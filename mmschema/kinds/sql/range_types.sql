-- The range types named (schema and name side by side) or in the schemas dumped: subtype,
-- and, when not the defaults, operator class, collation, canonical and subtype_diff
-- functions and multirange name; the table columns that hold values of the range or its
-- multirange.
SELECT n.nspname AS schema,
       t.typname AS name,
       format_type(r.rngsubtype, NULL) AS subtype,
       (SELECT CASE WHEN on_.nspname = 'pg_catalog' THEN oc.opcname
                    ELSE on_.nspname || '.' || oc.opcname END
          FROM pg_opclass oc JOIN pg_namespace on_ ON on_.oid = oc.opcnamespace
         WHERE oc.oid = r.rngsubopc AND NOT oc.opcdefault) AS subtype_opclass,
       (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN co.collname
                    ELSE cn.nspname || '.' || co.collname END
          FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
          JOIN pg_type st ON st.oid = r.rngsubtype
         WHERE co.oid = r.rngcollation AND r.rngcollation <> st.typcollation) AS collation,
       CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END AS canonical,
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END AS subtype_diff,
       mt.typname AS multirange,
       mn.nspname AS multirange_schema,
       ARRAY(SELECT ARRAY[rn.nspname, c.relname, a.attname]
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace rn ON rn.oid = c.relnamespace
              WHERE a.atttypid IN (t.oid, t.typarray, mt.oid, mt.typarray)
                AND a.attnum > 0 AND NOT a.attisdropped
                AND c.relkind IN ('r', 'm', 'p')
              ORDER BY 1) AS users,
       obj_description(t.oid, 'pg_type') AS comment
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_range r ON r.rngtypid = t.oid
  JOIN pg_type mt ON mt.oid = r.rngmultitypid
  JOIN pg_namespace mn ON mn.oid = mt.typnamespace
 WHERE t.typtype = 'r'
   AND (EXISTS (SELECT FROM unnest(%(schemas_named)s::text[], %(names)s::text[]) AS w(s, o)
                 WHERE w.s = n.nspname AND w.o = t.typname)
        OR n.nspname = ANY(%(schemas)s::text[]))
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY 1, 2
