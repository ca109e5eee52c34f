-- Sequences: those named (schema, name arrays) and every one of the schemas in
-- %(schemas_all)s, as pg_sequence holds them, with the column that owns each (OWNED BY),
-- whether they are implicit (an identity's, or a serial's: owned by the column whose default
-- calls it, named <table>_<column>_seq, as the table's dump writes it), the names of
-- the columns whose defaults call them, and their position (never compared). The position
-- of standalone sequences alone: pg_sequence_last_value() takes a lock on each sequence it
-- reads, and a database of 20,000 serial columns would fill the server's lock table.
SELECT schema, name, type, start, increment, min, max, cache, cycle,
       owner_schema, owner_table, owner_column, implicit,
       CASE WHEN NOT implicit AND has_sequence_privilege(oid, 'SELECT,USAGE')
            THEN pg_sequence_last_value(oid)::text END AS last_value,
       comment
FROM (
SELECT c.oid,
       n.nspname::text AS schema,
       c.relname::text AS name,
       format_type(s.seqtypid, NULL) AS type,
       s.seqstart AS start,
       s.seqincrement AS increment,
       s.seqmin AS min,
       s.seqmax AS max,
       s.seqcache AS cache,
       s.seqcycle AS cycle,
       tn.nspname::text AS owner_schema,
       t.relname::text AS owner_table,
       a.attname::text AS owner_column,
       coalesce(d.deptype = 'i'
                OR (d.deptype = 'a'
                    AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                    AND t.relnamespace = c.relnamespace
                    AND c.relname = t.relname || '_' || a.attname || '_seq'
                    AND pg_get_expr(ad.adbin, ad.adrelid)
                        = format('nextval(%%L::regclass)', c.oid::regclass::text)),
                false) AS implicit,
       obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_depend d
       ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
      AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class t ON t.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relkind = 'S'
  -- with %(standalone)s, not an identity's (implicit): --prune's listing reads no more
  AND NOT (%(standalone)s AND EXISTS (
        SELECT FROM pg_depend i
         WHERE i.classid = 'pg_class'::regclass AND i.objid = c.oid
           AND i.refclassid = 'pg_class'::regclass AND i.refobjsubid > 0 AND i.deptype = 'i'))
  AND ((n.nspname, c.relname) IN (SELECT m.schema, m.name
                                   FROM unnest(%(schemas)s::text[], %(names)s::text[])
                                        AS m(schema, name))
       OR n.nspname = ANY(%(schemas_all)s::text[]))
) AS found
ORDER BY 1, 2
