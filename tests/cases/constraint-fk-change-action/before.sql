CREATE TABLE sessions (id text PRIMARY KEY);
CREATE TABLE orders (id text PRIMARY KEY, sessionid text REFERENCES sessions (id));
