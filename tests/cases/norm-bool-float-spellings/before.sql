CREATE TABLE quotes (
    active boolean NOT NULL,
    bid float8,
    ask double precision,
    mid float,
    spread real,
    skew float4
);
INSERT INTO quotes VALUES (true, 99.5, 100.5, 100, 1, 0.25);
