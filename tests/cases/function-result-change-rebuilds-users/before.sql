CREATE FUNCTION score(n int) RETURNS int LANGUAGE sql IMMUTABLE AS $$SELECT n * 2$$;
CREATE TABLE games (id bigint PRIMARY KEY, points int DEFAULT score(1), CONSTRAINT points_scored CHECK (points <= score(100)));
CREATE VIEW scored AS SELECT id, score(points) AS s FROM games;
CREATE VIEW top_scored AS SELECT id FROM scored WHERE s > 10;
