CREATE TABLE prices (id int PRIMARY KEY, price numeric(18,8), qty integer);
INSERT INTO prices SELECT g, g * 1.5, g FROM generate_series(1, 100) g;
