CREATE TABLE instruments (
    code character varying(32) NOT NULL,
    venue varchar(16),
    currency char(3),
    note character varying,
    flag character(1)
);
INSERT INTO instruments VALUES ('BTC-USD', 'kraken', 'USD', 'spot', 'Y');
