CREATE TABLE trades (
    id bigint NOT NULL,
    venue text NOT NULL,
    qty numeric
) PARTITION BY LIST (venue);
CREATE TABLE trades_archive (
    id bigint NOT NULL,
    venue text NOT NULL,
    qty numeric
) PARTITION BY LIST (venue);
CREATE TABLE trades_okx PARTITION OF trades FOR VALUES IN ('okx');
CREATE TABLE trades_bybit (id bigint NOT NULL, venue text NOT NULL, qty numeric);
INSERT INTO trades VALUES (1, 'okx', 2);
INSERT INTO trades_bybit VALUES (2, 'bybit', 3);
