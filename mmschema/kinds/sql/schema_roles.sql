-- The connecting role, and which of the roles the file names as owners exist.
SELECT current_user::text AS connected_as,
       ARRAY(SELECT r.rolname::text FROM pg_roles r
              WHERE r.rolname = ANY(%(roles)s::text[])) AS roles_found
