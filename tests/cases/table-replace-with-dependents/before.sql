CREATE TABLE readings (id integer NOT NULL, at date NOT NULL, value numeric,
                       version integer DEFAULT 0, PRIMARY KEY (id, at));
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN NEW.version := OLD.version + 1; RETURN NEW; END $$;
CREATE TRIGGER readings_bump BEFORE UPDATE ON readings FOR EACH ROW EXECUTE FUNCTION bump();
CREATE MATERIALIZED VIEW monthly AS
  SELECT date_trunc('month', at) AS month, sum(value) AS total FROM readings GROUP BY 1;
CREATE VIEW recent AS SELECT id, at FROM readings WHERE at > DATE '2020-01-01';
CREATE VIEW recent_ids AS SELECT id FROM recent;
