CREATE SCHEMA ledger;
CREATE TABLE ledger.entries (id bigint PRIMARY KEY);
CREATE FUNCTION ledger.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER stamp_entries BEFORE INSERT ON ledger.entries FOR EACH ROW EXECUTE FUNCTION ledger.stamp();
