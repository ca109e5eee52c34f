-- The role connected, whether it may make others own objects (superuser), the server's
-- version, and which of the roles named exist.
SELECT current_user::text AS connected_as,
       current_setting('server_version_num')::int AS version,
       ARRAY(SELECT rolname::text FROM pg_roles
             WHERE rolname = ANY(%(roles)s::text[])) AS roles_found
