CREATE SCHEMA ledger;
CREATE TABLE ledger.entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account text NOT NULL,
    amount numeric(18,8) NOT NULL,
    booked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_entries_account ON ledger.entries (account, booked_at DESC);
CREATE TABLE entries (id integer);  -- a same-named table in public, not managed
INSERT INTO ledger.entries (account, amount) VALUES ('cash', 10), ('fees', -0.5);
