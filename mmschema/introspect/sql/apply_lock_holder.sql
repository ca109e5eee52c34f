-- Who holds mmschema's advisory lock (another apply).
SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local'),
       coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND ((l.classid::bigint << 32) | l.objid::bigint) = %(key)s
LIMIT 1
