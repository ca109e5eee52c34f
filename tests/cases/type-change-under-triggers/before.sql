CREATE TABLE items (id integer PRIMARY KEY, name varchar(10), note text);
CREATE FUNCTION items_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER items_name BEFORE UPDATE OF name ON items FOR EACH ROW EXECUTE FUNCTION items_touch();
COMMENT ON TRIGGER items_name ON items IS 'kept';
CREATE TRIGGER items_renamed BEFORE UPDATE ON items FOR EACH ROW
    WHEN (NEW.name IS DISTINCT FROM OLD.name) EXECUTE FUNCTION items_touch();
ALTER TABLE items DISABLE TRIGGER items_renamed;
CREATE TRIGGER items_note BEFORE UPDATE OF note ON items FOR EACH ROW EXECUTE FUNCTION items_touch();
