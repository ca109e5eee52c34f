CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
INSERT INTO users VALUES (1, 'a@example.com'), (2, 'B@example.com');
