CREATE TABLE quotes_cache (symbol text PRIMARY KEY, bid numeric, ask numeric);
CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL);
CREATE TABLE fills (id bigint NOT NULL, venue text NOT NULL, qty numeric);
CREATE UNIQUE INDEX fills_identity ON fills (id, venue);
ALTER TABLE fills REPLICA IDENTITY FULL;
