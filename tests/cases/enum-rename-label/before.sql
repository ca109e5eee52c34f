CREATE TYPE workflow AS ENUM ('active', 'pending');
CREATE TABLE jobs (id bigint PRIMARY KEY, state workflow NOT NULL DEFAULT 'pending');
INSERT INTO jobs VALUES (1, 'pending'), (2, 'active');
