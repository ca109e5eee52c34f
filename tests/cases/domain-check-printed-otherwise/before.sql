CREATE DOMAIN code AS varchar(8) DEFAULT 'x'::character varying
    CONSTRAINT shape CHECK (((VALUE)::text = ANY ((ARRAY['a'::character varying, 'x'::character varying])::text[])));
