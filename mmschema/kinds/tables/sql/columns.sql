-- Columns of the managed tables (by oid), in attnum order.
-- A default is printed without its table (relid 0): it holds no column reference, and
-- printing it against the table would open (lock, load into the relcache) every table.
SELECT a.attrelid AS oid,
       a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) END AS "default",
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by_default' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
       CASE WHEN a.attcollation <> 0
             AND a.attcollation <> (SELECT t.typcollation FROM pg_type t WHERE t.oid = a.atttypid)
            THEN (SELECT co.collname FROM pg_collation co WHERE co.oid = a.attcollation) END
         AS collation,
       ds.description AS comment,
       -- an identity's sequence options that differ from the defaults for its type
       -- (a CASE, so that only identity columns look their sequence up; NULL for others)
       CASE WHEN a.attidentity <> '' THEN
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
             WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid
               AND dep.classid = 'pg_class'::regclass
               AND dep.refobjsubid = a.attnum AND dep.deptype = 'i' AND o.v <> o.d
             ORDER BY o.k) END AS identity_options
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass
                           AND ds.objsubid = a.attnum
WHERE a.attrelid = ANY(%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
