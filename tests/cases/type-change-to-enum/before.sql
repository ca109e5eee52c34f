CREATE TYPE side AS ENUM ('buy', 'sell');
CREATE TABLE fills (id bigint PRIMARY KEY, side text);
INSERT INTO fills VALUES (1, 'buy'), (2, 'sell');
