-- Definitions of the target's own functions (not an extension's), for the scratch server:
-- declared defaults, checks and index expressions may call them. A range type's own
-- constructors (an internal dependency) come with the range type.
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
       pg_get_functiondef(p.oid) AS definition
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind = 'f'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND left(n.nspname, 3) <> 'pg_'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                    AND d.deptype IN ('e', 'i'))
ORDER BY n.nspname, p.proname, p.oid
