CREATE TABLE accounts (venue text NOT NULL, id bigint NOT NULL, primary_pair text, UNIQUE (venue, id));
CREATE TABLE pairs (venue text NOT NULL, symbol text NOT NULL, account bigint, UNIQUE (venue, symbol));
ALTER TABLE accounts ADD CONSTRAINT accounts_pair_fk FOREIGN KEY (venue, primary_pair) REFERENCES pairs (venue, symbol);
ALTER TABLE pairs ADD CONSTRAINT pairs_account_fk FOREIGN KEY (venue, account) REFERENCES accounts (venue, id);
CREATE TABLE audit (venue text, account bigint, CONSTRAINT audit_account_fk FOREIGN KEY (venue, account) REFERENCES accounts (venue, id));
