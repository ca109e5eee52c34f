CREATE TABLE balances (
    amount numeric(18,8) NOT NULL,
    fee decimal,
    lots numeric(10,0)
);
INSERT INTO balances VALUES (1.23456789, 0.001, 42);
