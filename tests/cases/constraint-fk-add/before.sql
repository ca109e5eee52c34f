CREATE TABLE sessions (id text PRIMARY KEY, symbol text);
CREATE TABLE orders (id text PRIMARY KEY, sessionid text, symbol text);
INSERT INTO sessions VALUES ('s1', 'BTC/USD'), ('s2', 'ETH/USD');
INSERT INTO orders VALUES ('o1', 's1', 'BTC/USD'), ('o2', 's2', 'ETH/USD'), ('o3', NULL, 'X');
