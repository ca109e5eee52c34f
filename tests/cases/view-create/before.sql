CREATE TABLE accounts (id bigint PRIMARY KEY, owner text);
CREATE VIEW unmanaged_owners AS SELECT owner FROM accounts;
