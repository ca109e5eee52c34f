-- Autovacuum workers holding a lock on any of these tables (names as regclass text), other
-- than those preventing wraparound: the server cancels such a worker for any lock waiter
-- after deadlock_timeout, but a brief lock_timeout ends the wait before that.
SELECT DISTINCT a.pid, left(coalesce(a.query, ''), 120)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted
  AND l.relation = ANY (ARRAY(SELECT to_regclass(t) FROM unnest(%(tables)s::text[]) AS t))
  AND a.backend_type = 'autovacuum worker'
  AND coalesce(a.query, '') NOT LIKE '%%to prevent wraparound%%'
