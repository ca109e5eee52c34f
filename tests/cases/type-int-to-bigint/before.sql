CREATE TABLE fills (
    id integer PRIMARY KEY,
    qty integer NOT NULL,
    "timestamp" integer
);
CREATE INDEX idx_fills_timestamp ON fills ("timestamp");
INSERT INTO fills VALUES (1, 10, 1717200), (2, 20, 1717201), (3, 30, NULL);
