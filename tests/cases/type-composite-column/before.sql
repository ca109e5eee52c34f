CREATE TYPE pair AS (a text, b text);
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TYPE span AS (lo positive, hi positive, tag pair);
CREATE TABLE t (id integer PRIMARY KEY);
