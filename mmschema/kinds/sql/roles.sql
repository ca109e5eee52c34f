-- The role connected, whether it may make others own objects (superuser), the server's
-- version, which of the roles named exist, and what the connected role's default
-- privileges grant on what it makes: [schema ('' for every schema), object type
-- (pg_default_acl's letter), grantee (PUBLIC), privilege, grantable].
SELECT current_user::text AS connected_as,
       current_setting('server_version_num')::int AS version,
       ARRAY(SELECT rolname::text FROM pg_roles
             WHERE rolname = ANY(%(roles)s::text[])) AS roles_found,
       ARRAY(SELECT ARRAY[coalesce(n.nspname::text, ''), d.defaclobjtype::text,
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE pg_get_userbyid(a.grantee)::text END,
                          a.privilege_type, a.is_grantable::text]
               FROM pg_default_acl d
               LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
               CROSS JOIN LATERAL aclexplode(d.defaclacl) a
              WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                AND a.grantee <> d.defaclrole) AS default_grants
