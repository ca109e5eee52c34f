CREATE TABLE docs (id bigint PRIMARY KEY, team text, legacy text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_team ON docs USING (team = current_user);
CREATE POLICY by_legacy ON docs USING (legacy IS NOT NULL);
