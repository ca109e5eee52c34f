CREATE TYPE workflow AS ENUM ('active', 'pending');
CREATE TYPE side AS ENUM ('buy', 'sell', 'short');
CREATE TABLE fills (id bigint PRIMARY KEY, side side);
