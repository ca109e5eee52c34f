CREATE TABLE payments (id bigint PRIMARY KEY, payer text, amount numeric);
CREATE FUNCTION insert_payment() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN INSERT INTO payments (id, payer) VALUES (NEW.id, NEW.payer); RETURN NEW; END $$;
