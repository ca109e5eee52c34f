-- pg_cast entries between the old and new base types of planned type changes.
SELECT p.old, p.new, c.castcontext::text, c.castmethod::text
FROM unnest(%(old)s::text[], %(new)s::text[]) AS p(old, new)
LEFT JOIN pg_cast c
  ON c.castsource = to_regtype(p.old) AND c.casttarget = to_regtype(p.new)
