-- Whether anything depends on the type or its array type (a column, a routine, another type,
-- a view) other than the type's own pieces (its array, relation, multirange, constraints).
SELECT EXISTS (
  SELECT FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    JOIN pg_depend d ON d.refclassid = 'pg_type'::regclass
                    AND (d.refobjid = t.oid OR d.refobjid = t.typarray)
   WHERE n.nspname = %(schema)s AND t.typname = %(name)s
     AND d.deptype = 'n'
     AND NOT (d.classid = 'pg_type'::regclass AND d.objid IN (t.oid, t.typarray))
     AND NOT (d.classid = 'pg_class'::regclass AND d.objid = t.typrelid)
) AS used
