-- The objects of the schemas the file manages that --prune may drop: tables, views,
-- materialized views (not partitions), standalone sequences (not an identity's, a serial's or one OWNED BY a
-- column), functions, procedures, enums, domains, composite and range types; not an
-- extension's, not a piece of another (a range's constructors), not mmschema's own (_mms_), not one the file names as that sort (kept; routines are told
-- apart by their arguments after). Each with what depends on it, named by the object
-- that holds the dependency: the table for its columns, defaults, constraints, indexes,
-- triggers and policies; the view for its rule; the type for an array or multirange.
WITH kept AS (
  SELECT * FROM unnest(%(kept_schemas)s::text[], %(kept_names)s::text[], %(kept_whats)s::text[])
           AS k(schema, name, what)
), candidates AS (
  SELECT 'pg_class'::regclass::oid AS classid, c.oid, n.nspname::text AS schema,
         c.relname::text AS name,
         CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                        WHEN 'S' THEN 'sequence' ELSE 'table' END AS what,
         '' AS identity, '{}'::text[] AS arguments,
         -- estimated rows: reltuples is -1 or stale until an ANALYZE, the statistics' live
         -- rows count every insert; no size function (it would wait for a table's lock)
         CASE WHEN c.relkind IN ('r', 'p', 'm')
              THEN greatest(c.reltuples::bigint, pg_stat_get_live_tuples(c.oid), 0) END AS rows,
         (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition)
           AS parent,
         ARRAY[c.reltype, (SELECT t.typarray FROM pg_type t WHERE t.oid = c.reltype)] AS types,
         -- the names of its schema's relation namespace that a table's indexes and owned
         -- sequences hold (a drop that frees one the plan takes runs first)
         ARRAY(SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = c.oid
               UNION ALL
               SELECT s.relname::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                  AND d.refobjid = c.oid AND d.deptype IN ('a', 'i') AND s.relkind = 'S'
                  AND s.relnamespace = c.relnamespace) AS held
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY(%(schemas)s::text[])
     AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
     AND NOT c.relispartition  -- its parent's: declared, or its drop takes it along
     AND NOT (c.relkind = 'S' AND EXISTS (
           SELECT FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
     -- the relations the file names, left out here already (as below), before the columns
     -- above are computed for each of them (3/4 of the statement's time at 5,000 tables)
     AND (n.nspname::text, c.relname::text,
          CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                         WHEN 'S' THEN 'sequence' ELSE 'table' END)
         NOT IN (SELECT schema, name, what FROM kept)
     AND (n.nspname::text, c.relname::text, '*') NOT IN (SELECT schema, name, what FROM kept)
  UNION ALL
  SELECT 'pg_proc'::regclass::oid, p.oid, n.nspname::text, p.proname::text,
         CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
         pg_get_function_identity_arguments(p.oid),
         ARRAY(SELECT format_type(a.t, NULL)
                 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i) ORDER BY a.i),
         NULL, NULL, '{}'::oid[], '{}'::text[]
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = ANY(%(schemas)s::text[]) AND p.prokind IN ('f', 'p')
  UNION ALL
  SELECT 'pg_type'::regclass::oid, t.oid, n.nspname::text, t.typname::text,
         CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain'
                        WHEN 'r' THEN 'range type' ELSE 'composite type' END,
         '', '{}'::text[], NULL, NULL,
         ARRAY[t.oid, t.typarray] || ARRAY(
           SELECT x FROM pg_range r, pg_type m, LATERAL (VALUES (m.oid), (m.typarray)) AS v(x)
            WHERE r.rngtypid = t.oid AND m.oid = r.rngmultitypid), '{}'::text[]
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = ANY(%(schemas)s::text[])
     AND (t.typtype IN ('e', 'd', 'r')
          OR (t.typtype = 'c' AND EXISTS (
                SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
)
SELECT o.classid::regclass::text AS sort, o.oid::bigint AS oid, o.schema, o.name, o.what,
       o.identity, o.arguments, o.rows, o.parent::bigint AS parent, o.held,
       ARRAY(
         SELECT DISTINCT ARRAY[h.sort, h.oid::text, h.via, r.schema, r.name]
           FROM pg_depend d
           CROSS JOIN LATERAL (
             SELECT CASE
                      WHEN d.classid = 'pg_class'::regclass THEN
                        (SELECT CASE WHEN c.relkind IN ('i', 'I')
                                       THEN ARRAY['pg_class', x.indrelid::text]
                                     WHEN c.relkind = 'c'
                                       THEN ARRAY['pg_type', c.reltype::text]
                                     ELSE ARRAY['pg_class', c.oid::text] END
                           FROM pg_class c LEFT JOIN pg_index x ON x.indexrelid = c.oid
                          WHERE c.oid = d.objid)
                      WHEN d.classid = 'pg_type'::regclass THEN
                        (SELECT CASE WHEN t.typtype = 'm'
                                       THEN ARRAY['pg_type', (SELECT r.rngtypid::text
                                                  FROM pg_range r
                                                 WHERE r.rngmultitypid = t.oid)]
                                     WHEN e.typarray = t.oid AND e.typtype = 'm'
                                       THEN ARRAY['pg_type', (SELECT r.rngtypid::text
                                                  FROM pg_range r
                                                 WHERE r.rngmultitypid = e.oid)]
                                     WHEN e.typarray = t.oid AND e.typrelid <> 0
                                          AND ec.relkind <> 'c'
                                       THEN ARRAY['pg_class', e.typrelid::text]
                                     WHEN e.typarray = t.oid
                                       THEN ARRAY['pg_type', e.oid::text]
                                     WHEN t.typrelid <> 0 AND tc.relkind <> 'c'
                                       THEN ARRAY['pg_class', t.typrelid::text]
                                     ELSE ARRAY['pg_type', t.oid::text] END
                           FROM pg_type t
                           LEFT JOIN pg_type e ON e.oid = t.typelem
                           LEFT JOIN pg_class ec ON ec.oid = e.typrelid
                           LEFT JOIN pg_class tc ON tc.oid = t.typrelid
                          WHERE t.oid = d.objid)
                      WHEN d.classid = 'pg_attrdef'::regclass THEN
                        (SELECT ARRAY['pg_class', a.adrelid::text]
                           FROM pg_attrdef a WHERE a.oid = d.objid)
                      WHEN d.classid = 'pg_constraint'::regclass THEN
                        (SELECT CASE WHEN k.conrelid <> 0
                                       THEN ARRAY['pg_class', k.conrelid::text]
                                     ELSE ARRAY['pg_type', k.contypid::text] END
                           FROM pg_constraint k WHERE k.oid = d.objid)
                      WHEN d.classid = 'pg_rewrite'::regclass THEN
                        (SELECT ARRAY['pg_class', w.ev_class::text]
                           FROM pg_rewrite w WHERE w.oid = d.objid)
                      WHEN d.classid = 'pg_trigger'::regclass THEN
                        (SELECT ARRAY['pg_class', g.tgrelid::text]
                           FROM pg_trigger g WHERE g.oid = d.objid)
                      WHEN d.classid = 'pg_policy'::regclass THEN
                        (SELECT ARRAY['pg_class', y.polrelid::text]
                           FROM pg_policy y WHERE y.oid = d.objid)
                      WHEN d.classid = 'pg_proc'::regclass THEN
                        coalesce((SELECT ARRAY[i.refclassid::regclass::text, i.refobjid::text]
                                    FROM pg_depend i
                                   WHERE i.classid = d.classid AND i.objid = d.objid
                                     AND i.deptype = 'i' LIMIT 1),
                                 ARRAY['pg_proc', d.objid::text])
                      ELSE ARRAY[d.classid::regclass::text, d.objid::text]
                    END AS owner,
                    CASE
                      WHEN d.classid = 'pg_class'::regclass AND d.objsubid > 0
                           AND d.refclassid = 'pg_type'::regclass THEN 'column type'
                      WHEN d.classid = 'pg_attrdef'::regclass THEN 'default'
                      WHEN d.classid = 'pg_constraint'::regclass THEN
                        (SELECT 'constraint ' || k.conname FROM pg_constraint k
                          WHERE k.oid = d.objid AND k.conrelid <> 0)
                      WHEN d.classid = 'pg_trigger'::regclass THEN
                        (SELECT 'trigger ' || g.tgname FROM pg_trigger g WHERE g.oid = d.objid)
                      WHEN d.classid = 'pg_policy'::regclass THEN
                        (SELECT 'policy ' || y.polname FROM pg_policy y WHERE y.oid = d.objid)
                    END AS via
           ) AS w
           CROSS JOIN LATERAL (SELECT w.owner[1] AS sort, w.owner[2]::oid AS oid,
                                      coalesce(w.via, '') AS via) AS h
           LEFT JOIN LATERAL (SELECT n.nspname::text AS schema, c.relname::text AS name
                                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE h.sort = 'pg_class' AND c.oid = h.oid) AS r ON true
          WHERE d.deptype = 'n'  -- 'a': dropped along, never in the way
            AND ((d.refclassid = o.classid AND d.refobjid = o.oid)
                 OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = ANY(o.types)))
            AND w.owner IS NOT NULL
            AND NOT (h.sort = o.classid::regclass::text AND h.oid = o.oid)
            AND NOT (h.sort = 'pg_type' AND h.oid = ANY(o.types))  -- its own pieces
       ) AS dependents
  FROM candidates o
 WHERE NOT EXISTS (SELECT FROM pg_depend e
                    WHERE e.classid = o.classid AND e.objid = o.oid AND e.deptype IN ('e', 'i')
                      -- a partitioned table's key columns and expression: on itself
                      AND NOT (e.refclassid = o.classid AND e.refobjid = o.oid))
   AND o.name NOT LIKE '\_mms\_%%'
   AND (o.what IN ('function', 'procedure')
        -- NOT IN (hashed once) rather than a NOT EXISTS under the OR, which ran once per
        -- candidate over every kept name (7 s at 5,000 tables)
        OR ((o.schema, o.name, o.what) NOT IN (SELECT schema, name, what FROM kept)
            AND (o.schema, o.name, '*') NOT IN (SELECT schema, name, what FROM kept)))
 ORDER BY o.schema, o.name, o.identity
