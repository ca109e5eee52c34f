CREATE SEQUENCE legacy_numbers;
CREATE TABLE t (id bigint DEFAULT nextval('legacy_numbers'));
