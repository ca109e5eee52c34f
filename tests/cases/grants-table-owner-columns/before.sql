DO $$BEGIN CREATE ROLE mms_case_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$;
DO $$BEGIN CREATE ROLE mms_case_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$;
CREATE TABLE accounts (id bigint PRIMARY KEY, email text, balance numeric);
GRANT SELECT ON accounts TO mms_case_reader;
