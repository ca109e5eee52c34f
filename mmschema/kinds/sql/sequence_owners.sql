-- The tables and columns the file's owned_by names outside its own tables ([schema, table,
-- column] as three arrays): whether each table is there, and whether it has that column.
SELECT w.schema, w.table_name, w.column_name,
       c.oid IS NOT NULL AS table_there,
       a.attnum IS NOT NULL AS column_there
FROM unnest(%(schemas)s::text[], %(tables)s::text[], %(columns)s::text[])
       AS w(schema, table_name, column_name)
LEFT JOIN pg_namespace n ON n.nspname = w.schema
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.table_name
                    AND c.relkind IN ('r', 'p', 'f', 'v')
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.column_name
                        AND a.attnum > 0 AND NOT a.attisdropped
