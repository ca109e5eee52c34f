-- PostgreSQL 18+: every NOT NULL constraint of these tables (schema, table, column, name),
-- inherited ones included: a partition's carry its parent's names, and keep them once
-- detached.
SELECT m.schema, m.tbl, a.attname, con.conname
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS m(schema, tbl)
JOIN pg_constraint con ON con.conrelid = to_regclass(format('%%I.%%I', m.schema, m.tbl))
     AND con.contype = 'n'
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
ORDER BY 1, 2, 3
