CREATE FUNCTION add(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE RETURN a + b;
CREATE FUNCTION "increment func"(i integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN i + 1; END $$;
CREATE FUNCTION total(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE
  RETURN add(a, b) + "increment func"(a);
