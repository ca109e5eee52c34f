CREATE TABLE "Accounts" (
    "AccountId" bigint PRIMARY KEY,
    "displayName" text NOT NULL,
    email text
);
CREATE INDEX "IX_Accounts_Display" ON "Accounts" ("displayName");
CREATE INDEX ix_accounts_email ON "Accounts" (lower(email)) WHERE "displayName" <> '';
INSERT INTO "Accounts" VALUES (1, 'Alice', 'a@example.com');
