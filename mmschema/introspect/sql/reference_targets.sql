-- Tables the file's foreign keys reference but does not declare: whether each (and its
-- schema) exists, its columns and types, and the column sets its unique indexes cover
-- (with whether it is the primary key; partial and expression indexes cannot be referenced).
SELECT t.schema, t.name, n.oid IS NOT NULL, c.oid IS NOT NULL,
       coalesce((SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                                 ORDER BY a.attnum)
                 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'),
       coalesce((SELECT json_agg(json_build_array(i.indisprimary,
                                 (SELECT json_agg(a.attname ORDER BY k.ord)
                                  FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                                  JOIN pg_attribute a
                                    ON a.attrelid = c.oid AND a.attnum = k.attnum)))
                 FROM pg_index i
                 WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL
                   AND NOT (0 = ANY (i.indkey::int2[]))), '[]')
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS t(schema, name)
LEFT JOIN pg_namespace n ON n.nspname = t.schema
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.name AND c.relkind IN ('r', 'p')
