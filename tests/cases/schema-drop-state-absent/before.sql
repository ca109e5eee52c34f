CREATE SCHEMA legacy;
CREATE TABLE legacy.a (id bigint);
CREATE TABLE legacy.b (id bigint);
CREATE VIEW legacy.v AS SELECT id FROM legacy.a;
CREATE FUNCTION legacy.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE SCHEMA nothing_here;
