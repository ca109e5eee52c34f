CREATE TABLE orders (id text PRIMARY KEY, symbol text);
CREATE TABLE trades (
    sessionid text NOT NULL,
    seq integer NOT NULL,
    CONSTRAINT pk_trades PRIMARY KEY (sessionid, seq)
);
INSERT INTO trades VALUES ('s1', 1), ('s1', 2);
