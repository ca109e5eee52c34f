CREATE TABLE events (
    created_at timestamp with time zone NOT NULL,
    local_at timestamp without time zone,
    precise_at timestamp(3) with time zone,
    opens time with time zone,
    closes time
);
INSERT INTO events VALUES ('2024-06-01 12:00:00+00', '2024-06-01 12:00:00', '2024-06-01 12:00:00.123+00', '09:00+00', '17:00');
