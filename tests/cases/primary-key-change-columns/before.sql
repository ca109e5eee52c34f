CREATE TABLE events (
    id bigint NOT NULL PRIMARY KEY,
    sessionid text NOT NULL,
    seq integer NOT NULL,
    payload jsonb
);
INSERT INTO events VALUES (1, 's1', 1, '{}'), (2, 's1', 2, NULL), (3, 's2', 1, '[]');
