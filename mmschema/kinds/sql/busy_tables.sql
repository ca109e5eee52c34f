-- Of the tables named (schema, name arrays), those other sessions hold locks on right now,
-- and how many sessions: a new trigger's SHARE ROW EXCLUSIVE queues behind them, and writes
-- queue behind it.
SELECT n.nspname::text AS schema, c.relname::text AS name, count(DISTINCT l.pid)::int AS sessions
FROM unnest(%(schemas)s::text[], %(names)s::text[]) AS m(schema, name)
JOIN pg_namespace n ON n.nspname = m.schema
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.name
JOIN pg_locks l ON l.locktype = 'relation' AND l.relation = c.oid AND l.granted
WHERE l.pid <> pg_backend_pid()
GROUP BY 1, 2
ORDER BY 1, 2
