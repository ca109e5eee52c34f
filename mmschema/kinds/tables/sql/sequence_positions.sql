-- The last value an identity or serial column's sequence gave (NULL: none yet).
SELECT s.schema, s.tbl, s.col, pg_sequence_last_value(s.seq::regclass)::text AS last_value
FROM (SELECT c.schema, c.tbl, c.col,
             CASE WHEN to_regclass(format('%%I.%%I', c.schema, c.tbl)) IS NOT NULL
                  THEN pg_get_serial_sequence(format('%%I.%%I', c.schema, c.tbl), c.col) END AS seq
      FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(columns)s::text[])
           AS c(schema, tbl, col)) AS s
WHERE s.seq IS NOT NULL
