CREATE FUNCTION positive(n int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT n > 0$$;
CREATE TABLE counters (id bigint PRIMARY KEY, n int CHECK (positive(n)));
