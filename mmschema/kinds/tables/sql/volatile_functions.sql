-- Of these function names, those with a volatile overload (ADD COLUMN then rewrites).
SELECT DISTINCT p.proname
FROM pg_proc p
WHERE p.proname = ANY(%(names)s::text[]) AND p.provolatile = 'v'
