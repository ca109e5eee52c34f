-- Of these (column, sequence) pairs, those where the column owns the sequence (a serial's).
SELECT c.schema, c.tbl, c.col, c.seq
FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(columns)s::text[], %(sequences)s::text[])
     AS c(schema, tbl, col, seq)
WHERE pg_get_serial_sequence(format('%%I.%%I', c.schema, c.tbl), c.col)::regclass
      = to_regclass(c.seq)
