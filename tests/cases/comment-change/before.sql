CREATE TABLE sessions (
    id text PRIMARY KEY,
    startedat bigint,
    symbol text
);
CREATE INDEX idx_sessions_startedat ON sessions (startedat);
COMMENT ON COLUMN sessions.startedat IS 'start time';
COMMENT ON COLUMN sessions.symbol IS 'obsolete comment';
COMMENT ON INDEX idx_sessions_startedat IS 'old index comment';
