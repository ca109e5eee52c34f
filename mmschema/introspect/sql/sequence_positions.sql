-- The last value an identity or serial column's sequence gave (NULL: none yet).
SELECT c.schema, c.tbl, c.col,
       pg_sequence_last_value(
           pg_get_serial_sequence(format('%%I.%%I', c.schema, c.tbl), c.col)::regclass
       )::text AS last_value
FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(columns)s::text[]) AS c(schema, tbl, col)
WHERE pg_get_serial_sequence(format('%%I.%%I', c.schema, c.tbl), c.col) IS NOT NULL
