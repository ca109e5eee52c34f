-- Who holds mmschema's advisory lock (another apply): pid, application, user, client, seconds
-- since it connected (NULL where pg_stat_activity hides it from this role).
SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename::text, '?'),
       coalesce(a.client_addr::text, 'local'),
       extract(epoch FROM clock_timestamp() - a.backend_start)::float8
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND ((l.classid::bigint << 32) | l.objid::bigint) = %(key)s
LIMIT 1
