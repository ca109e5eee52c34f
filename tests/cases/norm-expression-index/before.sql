CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    username text,
    size numeric,
    amount numeric
);
CREATE UNIQUE INDEX idx_users_email_lower ON users (lower(email));
CREATE INDEX idx_users_username_lower ON users ((lower(username)));
CREATE INDEX idx_users_size ON users (COALESCE(size, amount));
INSERT INTO users VALUES (1, 'A@example.com', 'Alice', 1, NULL), (2, 'b@example.com', 'bob', NULL, 2);
