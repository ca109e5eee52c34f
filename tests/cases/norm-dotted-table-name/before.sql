CREATE SCHEMA ledger;
CREATE TABLE ledger."Order.Items" (
    id bigint PRIMARY KEY,
    "orderId" bigint NOT NULL,
    sku text NOT NULL,
    qty integer NOT NULL DEFAULT 1
);
CREATE INDEX order_items_order_idx ON ledger."Order.Items" ("orderId");
INSERT INTO ledger."Order.Items" VALUES (1, 10, 'W-1', 2);
