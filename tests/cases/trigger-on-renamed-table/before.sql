CREATE TABLE ledger (id bigint PRIMARY KEY, amount numeric, touched timestamptz);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
CREATE TRIGGER ledger_touch BEFORE UPDATE ON ledger FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER ledger_insert BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION touch();
