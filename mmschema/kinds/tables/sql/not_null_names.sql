-- PostgreSQL 18+: the NOT NULL constraints these tables declare themselves (schema, table,
-- column, name), and whether every partition or child inheriting one has the same name
-- (RENAME CONSTRAINT on the parent renames theirs along, and fails where a name differs).
WITH RECURSIVE mine AS (
  SELECT m.schema, m.tbl, con.conrelid, a.attname, con.conname
  FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS m(schema, tbl)
  JOIN pg_constraint con ON con.conrelid = to_regclass(format('%%I.%%I', m.schema, m.tbl))
       AND con.contype = 'n' AND con.conislocal
  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
), below (top, child) AS (
  SELECT DISTINCT mine.conrelid, h.inhrelid
  FROM mine JOIN pg_inherits h ON h.inhparent = mine.conrelid
  UNION
  SELECT below.top, h.inhrelid FROM below JOIN pg_inherits h ON h.inhparent = below.child
)
SELECT mine.schema, mine.tbl, mine.attname, mine.conname,
       NOT EXISTS (
         SELECT FROM below
         JOIN pg_attribute ca ON ca.attrelid = below.child AND ca.attname = mine.attname
         JOIN pg_constraint cc ON cc.conrelid = below.child AND cc.contype = 'n'
              AND cc.conkey[1] = ca.attnum
         WHERE below.top = mine.conrelid AND cc.conname <> mine.conname
       ) AS renamable
FROM mine
ORDER BY 1, 2, 3
