-- Which of the roles the file's policies name exist.
SELECT r.rolname::text AS name FROM pg_roles r WHERE r.rolname = ANY(%(roles)s::text[])
