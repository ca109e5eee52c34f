CREATE FUNCTION norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT lower(t)$$;
CREATE TABLE users (id bigint PRIMARY KEY, email text CONSTRAINT email_normal CHECK (norm(email) <> ''));
CREATE INDEX users_email_norm ON users (norm(email));
