CREATE TABLE baskets (
    tags text[] NOT NULL,
    weights int4[],
    matrix float8[][]
);
INSERT INTO baskets VALUES ('{a,b}', '{1,2}', '{{1,2},{3,4}}');
