CREATE TABLE balances (
    account text PRIMARY KEY,
    amount numeric(10,2) NOT NULL,
    reserved numeric
);
INSERT INTO balances VALUES ('a', 12345678.12, 1.5), ('b', -3.5, NULL);
