-- Per managed table, for online type changes: its estimated rows (from reltuples, or its
-- size where it was never analyzed), the sync triggers an online type change installed,
-- and the sequences its columns own (column, then the quoted schema.sequence); for the
-- copy-and-swap method, what the copy would not carry (empty: it may be copied), and the
-- copy an earlier apply left (whether it is there, its indexes as "name valid", and the
-- progress its comment records); for the swap: the table's owner (empty: the role
-- applying, who makes the copy), its privileges and its columns' ([grantee, privilege,
-- column or '', grantable]), the privileges the copy has or will have (the role's default
-- privileges for new tables; its owner's counted as the table owner's, whom the swap makes
-- its owner), and the table's triggers as it takes to make them again ([name, definition,
-- enabled, comment]; names qualified: read_state pins search_path to pg_catalog), and
-- every view over it, views of views included ([schema, name]), which the swap makes again.
SELECT n.nspname, c.relname,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
            ELSE pg_relation_size(c.oid) / 64 END AS rows,
       ARRAY(SELECT t.tgname::text FROM pg_trigger t
             WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
               AND t.tgname LIKE '\_mms\_sync\_%%' ORDER BY 1) AS triggers,
       ARRAY(SELECT a.attname || ' ' || quote_ident(sn.nspname) || '.' || quote_ident(s.relname)
             FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
             JOIN pg_class s ON s.oid = d.objid
             JOIN pg_namespace sn ON sn.oid = s.relnamespace
             WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
               AND d.classid = 'pg_class'::regclass AND d.deptype = 'a'
               AND d.refobjsubid > 0 AND s.relkind = 'S'
             ORDER BY 1) AS owned_sequences,
       ARRAY(SELECT reason FROM (VALUES
           (c.relkind <> 'r' OR c.relispartition, 'it is partitioned or a partition'),
           (c.relpersistence <> 'p', 'it is unlogged or temporary'),
           (c.reloftype <> 0, 'it is a typed table'),
           (c.relrowsecurity AND row_security_active(c.oid),
            'row-level security applies to the role applying (the copy would miss rows)'),
           (EXISTS (SELECT 1 FROM aclexplode(c.relacl) AS a WHERE a.grantor <> c.relowner)
            OR EXISTS (SELECT 1 FROM pg_attribute att CROSS JOIN LATERAL aclexplode(att.attacl) AS a
                       WHERE att.attrelid = c.oid AND a.grantor <> c.relowner),
            'roles other than its owner granted privileges on it'),
           (c.reloptions IS NOT NULL, 'it has storage parameters'),
           (c.relreplident <> 'd', 'its replica identity is not the default'),
           (c.relowner <> me.oid AND NOT me.rolsuper
            AND NOT has_schema_privilege(c.relowner, n.oid, 'CREATE'),
            'its owner may not create tables in its schema (the new table cannot be given to it)'),
           (EXISTS (SELECT 1 FROM pg_inherits i WHERE c.oid IN (i.inhrelid, i.inhparent)),
            'it is in an inheritance tree'),
           (EXISTS (SELECT 1 FROM pg_publication_rel r WHERE r.prrelid = c.oid)
            OR EXISTS (SELECT 1 FROM pg_publication p WHERE p.puballtables),
            'it is published'),
           (EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid),
            'it has rules'),
           (EXISTS (SELECT 1 FROM pg_depend d WHERE d.refobjid = c.oid
                      AND d.refclassid = 'pg_class'::regclass
                      AND d.classid = 'pg_proc'::regclass),
            'functions read it'),
           (EXISTS (SELECT 1 FROM pg_depend d
                    JOIN pg_rewrite r ON r.oid = d.objid
                    JOIN pg_class v ON v.oid = r.ev_class
                    WHERE d.refobjid = c.oid AND d.refclassid = 'pg_class'::regclass
                      AND d.classid = 'pg_rewrite'::regclass AND v.oid <> c.oid
                      AND (v.relkind <> 'v' OR r.rulename <> '_RETURN')),
            'rules or materialized views read it'),
           (EXISTS (SELECT 1 FROM pg_depend d JOIN pg_policy p ON p.oid = d.objid
                    WHERE d.refobjid = c.oid AND d.refclassid = 'pg_class'::regclass
                      AND d.classid = 'pg_policy'::regclass AND p.polrelid <> c.oid),
            'policies of other tables read it'),
           (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                      AND NOT a.attisdropped AND (a.attidentity <> '' OR a.attgenerated <> '')),
            'it has identity or generated columns'),
           (NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid
                          AND k.contype = 'p' AND NOT k.condeferrable),
            'it has no primary key (or a deferrable one)'),
           (EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid
                      AND (k.contype IN ('f', 'x') OR NOT k.convalidated
                           OR (k.contype = 'u' AND k.condeferrable))),
            'it has foreign keys of its own, exclusion, deferrable or NOT VALID constraints'),
           (EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid
                      AND (NOT x.indisvalid
                           OR obj_description(x.indexrelid, 'pg_class') IS NOT NULL)),
            'an index of it is invalid or has a comment'),
           (EXISTS (SELECT 1 FROM pg_type t JOIN pg_attribute a ON a.atttypid = t.oid
                    WHERE t.typrelid = c.oid), 'its row type is used')
         ) AS b(blocked, reason) WHERE blocked) AS copy_blockers,
       copy.oid IS NOT NULL AS copy_exists,
       ARRAY(SELECT ic.relname || ' ' || x.indisvalid FROM pg_index x
             JOIN pg_class ic ON ic.oid = x.indexrelid
             WHERE x.indrelid = copy.oid ORDER BY 1) AS copy_indexes,
       obj_description(copy.oid, 'pg_class') AS copy_progress,
       CASE WHEN c.relowner <> me.oid THEN pg_get_userbyid(c.relowner)::text ELSE '' END AS owner,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE pg_get_userbyid(a.grantee)::text END,
                          a.privilege_type, '', a.is_grantable::text]
             FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
             UNION ALL
             SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE pg_get_userbyid(a.grantee)::text END,
                          a.privilege_type, att.attname::text, a.is_grantable::text]
             FROM pg_attribute att CROSS JOIN LATERAL aclexplode(att.attacl) AS a
             WHERE att.attrelid = c.oid AND att.attnum > 0 AND NOT att.attisdropped) AS privileges,
       ARRAY(SELECT ARRAY[CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               WHEN a.grantee = copy_acl.owner
                               THEN pg_get_userbyid(c.relowner)::text
                               ELSE pg_get_userbyid(a.grantee)::text END,
                          a.privilege_type, '', a.is_grantable::text]
             FROM aclexplode(copy_acl.acl) AS a) AS copy_privileges,
       ARRAY(SELECT ARRAY[t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled::text,
                          obj_description(t.oid, 'pg_trigger')]
             FROM pg_trigger t
             WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
               AND t.tgname NOT LIKE '\_mms\_sync\_%%'
             ORDER BY t.tgname) AS own_triggers,
       ARRAY(WITH RECURSIVE readers(oid) AS (
                 SELECT r.ev_class FROM pg_depend d
                 JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
                 WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                   AND r.ev_class <> c.oid
                 UNION
                 SELECT r.ev_class FROM readers
                 JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass
                                 AND d.refobjid = readers.oid
                 JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
                 WHERE r.ev_class <> readers.oid)
             SELECT ARRAY[vn.nspname::text, v.relname::text] FROM readers
             JOIN pg_class v ON v.oid = readers.oid
             JOIN pg_namespace vn ON vn.oid = v.relnamespace) AS views_over
FROM pg_class c
CROSS JOIN (SELECT oid, rolsuper FROM pg_roles WHERE rolname = current_user) AS me
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN unnest(%(schemas)s::text[], %(names)s::text[], %(copies)s::text[])
  AS m(schema_name, table_name, copy_name)
  ON n.nspname = m.schema_name AND c.relname = m.table_name
LEFT JOIN pg_class copy ON copy.relnamespace = n.oid AND copy.relname = m.copy_name
  AND copy.relkind = 'r'
-- the ACL the copy has, or will have (the role's default privileges for new tables: the
-- global ones in place of the built-in default, with the schema's added), and its owner
CROSS JOIN LATERAL (
    SELECT coalesce(copy.relacl, acldefault('r', copy.relowner)) AS acl, copy.relowner AS owner
    WHERE copy.oid IS NOT NULL
    UNION ALL
    SELECT coalesce((SELECT d.defaclacl FROM pg_default_acl d
                     WHERE d.defaclrole = me.oid AND d.defaclobjtype = 'r'
                       AND d.defaclnamespace = 0), acldefault('r', me.oid))
           || coalesce((SELECT d.defaclacl FROM pg_default_acl d
                        WHERE d.defaclrole = me.oid AND d.defaclobjtype = 'r'
                          AND d.defaclnamespace = n.oid), '{}'::aclitem[]),
           me.oid
    WHERE copy.oid IS NULL) AS copy_acl
WHERE c.relkind IN ('r', 'p')
