CREATE TABLE sessions (
    id text PRIMARY KEY,
    pair_count integer NOT NULL DEFAULT '0'::integer,
    retries smallint DEFAULT 0,
    ratio numeric DEFAULT 1.5,
    pnl numeric(20,8) NOT NULL DEFAULT 0,
    rank integer DEFAULT -1,
    weight double precision DEFAULT 0.25
);
INSERT INTO sessions (id) VALUES ('s1'), ('s2');
