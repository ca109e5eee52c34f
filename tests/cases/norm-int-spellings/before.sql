CREATE TABLE counters (
    a int NOT NULL,
    b int4,
    c integer,
    d int8,
    e bigint,
    f int2,
    g smallint
);
INSERT INTO counters VALUES (1, 2, 3, 4, 5, 6, 7), (10, NULL, NULL, NULL, NULL, NULL, NULL);
