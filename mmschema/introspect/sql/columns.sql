-- Columns of the managed tables, in attnum order.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by_default' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation,
       col_description(c.oid, a.attnum) AS comment,
       -- an identity's sequence options that differ from the defaults for its type
       -- (a CASE, so that only identity columns look their sequence up)
       CASE WHEN a.attidentity = '' THEN '{}'::text[] ELSE
       ARRAY(SELECT ARRAY[o.k, o.v]
             FROM pg_depend dep
             JOIN pg_sequence sq ON sq.seqrelid = dep.objid
             CROSS JOIN LATERAL (VALUES
                     ('cache', sq.seqcache::text, '1'),
                     ('cycle', sq.seqcycle::text, 'false'),
                     ('increment', sq.seqincrement::text, '1'),
                     ('max', sq.seqmax::text,
                      CASE WHEN sq.seqincrement < 0 THEN '-1'
                           WHEN a.atttypid = 'int2'::regtype THEN '32767'
                           WHEN a.atttypid = 'int4'::regtype THEN '2147483647'
                           ELSE '9223372036854775807' END),
                     ('min', sq.seqmin::text,
                      CASE WHEN sq.seqincrement > 0 THEN '1'
                           WHEN a.atttypid = 'int2'::regtype THEN '-32768'
                           WHEN a.atttypid = 'int4'::regtype THEN '-2147483648'
                           ELSE '-9223372036854775808' END),
                     ('start', sq.seqstart::text,
                      CASE WHEN sq.seqincrement > 0 THEN sq.seqmin ELSE sq.seqmax END::text)
                  ) AS o(k, v, d)
             WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = c.oid
               AND dep.classid = 'pg_class'::regclass
               AND dep.refobjsubid = a.attnum AND dep.deptype = 'i' AND o.v <> o.d
             ORDER BY o.k) END AS identity_options
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name AND c.relkind IN ('r', 'p')
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
ORDER BY 1, 2, a.attnum
