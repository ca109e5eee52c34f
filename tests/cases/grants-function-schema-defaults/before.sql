DO $$BEGIN CREATE ROLE mms_case_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$;
DO $$BEGIN CREATE ROLE mms_case_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$;
CREATE SCHEMA reports;
