CREATE TABLE "Widgets" (
    id integer PRIMARY KEY,
    "SKU" text NOT NULL
);
CREATE TABLE gadgets (id integer PRIMARY KEY);
INSERT INTO "Widgets" VALUES (1, 'W-1');
