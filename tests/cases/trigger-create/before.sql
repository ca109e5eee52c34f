CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric, updated_at timestamptz);
CREATE TABLE audit (at timestamptz, what text);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (now(), TG_ARGV[0]); RETURN NULL; END $$;
CREATE TABLE parent (id bigint, child_id bigint REFERENCES accounts (id));
CREATE TRIGGER someone_elses AFTER DELETE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION log_change('x');
