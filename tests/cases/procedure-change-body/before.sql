CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz);
CREATE PROCEDURE purge(keep_days int) LANGUAGE sql AS $$DELETE FROM events WHERE at < now() - make_interval(days => keep_days)$$;
