CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE orders (id integer PRIMARY KEY, account_id bigint REFERENCES accounts (id));
