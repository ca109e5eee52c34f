-- Relations of this database that other sessions hold ACCESS EXCLUSIVE (what a catalog
-- read's ACCESS SHARE waits for): the relation, who holds it (pid NULL: a prepared
-- transaction), how long their transaction is open (NULL where pg_stat_activity hides it
-- from this role), what they run. regclass prints the name without taking a lock.
SELECT l.relation::regclass::text, l.pid, coalesce(a.application_name, ''),
       coalesce(a.usename::text, ''),
       extract(epoch FROM statement_timestamp() - a.xact_start)::float8,
       left(regexp_replace(coalesce(a.query, ''), '[[:space:]]+', ' ', 'g'), 80)
FROM pg_locks l
-- only relations this session can see: REFRESH MATERIALIZED VIEW also locks its transient
-- heap, which no other session sees and whose oid would crowd out the view's name
JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.granted AND l.mode = 'AccessExclusiveLock'
  AND l.database IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
  AND l.pid IS DISTINCT FROM pg_backend_pid()
ORDER BY 5 DESC NULLS LAST, c.relnamespace = 'pg_toast'::regnamespace, 1 LIMIT 5
