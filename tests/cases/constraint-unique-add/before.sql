CREATE TABLE accounts (id bigint PRIMARY KEY, email text, region text);
INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'eu' FROM generate_series(1, 200) g;
