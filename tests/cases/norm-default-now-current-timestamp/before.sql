CREATE TABLE events (
    id integer PRIMARY KEY,
    at timestamptz DEFAULT now(),
    seen timestamptz DEFAULT CURRENT_TIMESTAMP,
    day date DEFAULT CURRENT_DATE,
    local timestamp DEFAULT LOCALTIMESTAMP,
    other timestamptz DEFAULT transaction_timestamp()
);
