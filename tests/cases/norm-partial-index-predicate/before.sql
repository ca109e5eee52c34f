CREATE TABLE sessions (
    id text PRIMARY KEY,
    startedat bigint,
    settlesession boolean DEFAULT false,
    settledcomplete boolean
);
CREATE INDEX idx_sessions_settle ON sessions (startedat) WHERE settlesession = true;
CREATE INDEX idx_sessions_settlement_discovery ON sessions (startedat)
    WHERE settlesession = true AND (settledcomplete IS NULL OR settledcomplete = false);
INSERT INTO sessions VALUES ('s1', 1717200000000, true, NULL), ('s2', 1717200000001, false, true);
