-- The comments of one catalog's objects (pg_class, pg_proc, pg_type, pg_policy...), by oid:
-- one bulk read for a kind's objects (objsubid 0: the object itself, not a column).
SELECT d.objoid AS oid, d.description AS comment
FROM pg_description d
WHERE d.classoid = %(catalog)s::regclass
  AND d.objoid = ANY(%(oids)s::oid[])
  AND d.objsubid = 0
