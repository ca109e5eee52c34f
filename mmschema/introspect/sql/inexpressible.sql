-- Constraint options of these tables that schema.yaml cannot declare (dump warns of each).
-- to_jsonb(c) reads confdelsetcols where the server has it (PostgreSQL 15+), and conperiod
-- (18+: a temporal key's WITHOUT OVERLAPS, a foreign key's PERIOD).
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
    (ic.reloptions IS NOT NULL, 'WITH (storage parameters) on its index'),
    (c.contype IN ('p', 'u') AND coalesce(to_jsonb(c) ->> 'conperiod', '') = 'true',
     'WITHOUT OVERLAPS'),
    (c.contype = 'f' AND coalesce(to_jsonb(c) ->> 'conperiod', '') = 'true', 'PERIOD')
) AS o(found, what)
WHERE o.found
  AND (n.nspname, r.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(tables)s::text[]))
ORDER BY 1, 2, 3, 4
