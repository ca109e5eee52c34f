CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE users (id bigint PRIMARY KEY, email citext NOT NULL);
CREATE UNIQUE INDEX users_email ON users (email);
