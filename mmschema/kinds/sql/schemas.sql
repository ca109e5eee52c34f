-- The schemas named or dumped: owner, comment, and how many objects of each sort each holds
-- (what DROP SCHEMA ... CASCADE would take along).
SELECT n.nspname AS name,
       pg_get_userbyid(n.nspowner) AS owner,
       d.description AS comment,
       (SELECT count(*) FROM pg_class c
         WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'f')) AS tables,
       (SELECT count(*) FROM pg_class c
         WHERE c.relnamespace = n.oid AND c.relkind IN ('v', 'm')) AS views,
       (SELECT count(*) FROM pg_class c
         WHERE c.relnamespace = n.oid AND c.relkind = 'S') AS sequences,
       (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid) AS routines,
       (SELECT count(*) FROM pg_type t
         WHERE t.typnamespace = n.oid
           AND (t.typtype IN ('d', 'e', 'r')
                OR (t.typtype = 'c' AND EXISTS (
                      SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))))
         AS types
  FROM pg_namespace n
  LEFT JOIN pg_description d
    ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
 WHERE n.nspname = ANY(%(names)s::text[]) OR n.nspname = ANY(%(schemas)s::text[])
 ORDER BY n.nspname
