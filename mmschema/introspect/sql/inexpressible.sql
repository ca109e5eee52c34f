-- Constraint options of these tables that schema.yaml cannot declare, and a partition's
-- own NOT NULL or DEFAULT on a column (dump warns of each).
-- to_jsonb(c) reads confdelsetcols where the server has it (PostgreSQL 15+).
SELECT n.nspname, r.relname, c.conname, o.what
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.conindid AND c.contype IN ('p', 'u')
LEFT JOIN pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL (VALUES
    (c.contype = 'p' AND c.condeferrable, 'DEFERRABLE primary key'),
    (c.contype = 'f' AND c.confmatchtype = 'f', 'MATCH FULL'),
    (c.contype = 'f' AND coalesce(to_jsonb(c) ->> 'confdelsetcols', '') NOT IN ('', '[]'),
     'ON DELETE SET NULL/DEFAULT (columns)'),
    (i.indnkeyatts IS NOT NULL AND i.indnkeyatts < i.indnatts, 'INCLUDE columns'),
    (ic.reloptions IS NOT NULL, 'WITH (storage parameters) on its index')
) AS o(found, what)
WHERE o.found
  AND (n.nspname, r.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(tables)s::text[]))
UNION ALL
SELECT n.nspname, r.relname, a.attname, o.what
FROM pg_class r
JOIN pg_namespace n ON n.oid = r.relnamespace
JOIN pg_inherits h ON h.inhrelid = r.oid
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_attribute pa ON pa.attrelid = h.inhparent AND pa.attname = a.attname
CROSS JOIN LATERAL (VALUES
    (a.attnotnull AND NOT pa.attnotnull, 'a partition''s own NOT NULL'),
    (pg_get_expr((SELECT d.adbin FROM pg_attrdef d
                  WHERE d.adrelid = r.oid AND d.adnum = a.attnum), r.oid)
       IS DISTINCT FROM
     pg_get_expr((SELECT d.adbin FROM pg_attrdef d
                  WHERE d.adrelid = pa.attrelid AND d.adnum = pa.attnum), pa.attrelid),
     'a partition''s own DEFAULT')
) AS o(found, what)
WHERE r.relispartition AND o.found
  AND (n.nspname, r.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(tables)s::text[]))
ORDER BY 1, 2, 3, 4
