-- Other sessions holding locks on a table: who, how long their transaction is open (NULL
-- where pg_stat_activity hides it from this role), what they run.
SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, '?'),
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
       left(regexp_replace(coalesce(a.query, ''), '[[:space:]]+', ' ', 'g'), 80),
       string_agg(DISTINCT l.mode, ',')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted
  AND l.relation = to_regclass(%(table)s) AND l.pid <> pg_backend_pid()
GROUP BY 1, 2, 3, 4, 5 ORDER BY 4 DESC NULLS LAST LIMIT 5
