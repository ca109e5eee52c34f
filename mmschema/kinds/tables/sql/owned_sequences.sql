-- Of these (column, sequence) pairs, those where the column owns the sequence (a serial's).
SELECT s.schema, s.tbl, s.col, s.seq
FROM (SELECT c.schema, c.tbl, c.col, c.seq,
             CASE WHEN to_regclass(format('%%I.%%I', c.schema, c.tbl)) IS NOT NULL
                  THEN pg_get_serial_sequence(format('%%I.%%I', c.schema, c.tbl), c.col) END AS owned
      FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(columns)s::text[],
                  %(sequences)s::text[]) AS c(schema, tbl, col, seq)) AS s
WHERE s.owned IS NOT NULL AND s.owned::regclass = to_regclass(s.seq)
