-- mmschema plan for TARGET; fingerprint FINGERPRINT
-- run with: psql -v ON_ERROR_STOP=1 -f <this file>
-- 12 changes

SET lock_timeout = '3000ms';

-- add_column public.sessions.pairs
--   lock: ACCESS EXCLUSIVE
BEGIN;
SET statement_timeout = '1800000ms';
ALTER TABLE "public"."sessions" ADD COLUMN "pairs" jsonb DEFAULT ('[]'::jsonb) NOT NULL;
SET statement_timeout = '0';
UPDATE "public"."sessions" SET "pairs" = (jsonb_build_array(symbol)) WHERE (symbol IS NOT NULL) AND "pairs" IS DISTINCT FROM (jsonb_build_array(symbol));
COMMIT;

-- add_column public.sessions.pair_count
--   lock: ACCESS EXCLUSIVE
BEGIN;
SET statement_timeout = '1800000ms';
ALTER TABLE "public"."sessions" ADD COLUMN "pair_count" integer DEFAULT (0) NOT NULL;
SET statement_timeout = '0';
UPDATE "public"."sessions" SET "pair_count" = (CASE WHEN symbol IS NULL THEN 0 ELSE 1 END) WHERE "pair_count" IS DISTINCT FROM (CASE WHEN symbol IS NULL THEN 0 ELSE 1 END);
COMMIT;

-- add_column public.orders.pair_index
--   lock: ACCESS EXCLUSIVE
BEGIN;
SET statement_timeout = '1800000ms';
ALTER TABLE "public"."orders" ADD COLUMN "pair_index" integer DEFAULT (0) NOT NULL;
COMMIT;

-- create_index public.sessions.idx_sessions_pair_count
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
SET statement_timeout = '0';
CREATE INDEX CONCURRENTLY "idx_sessions_pair_count" ON "public"."sessions" USING btree ("pair_count");

-- create_index public.sessions.idx_sessions_pairs_gin
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE INDEX CONCURRENTLY "idx_sessions_pairs_gin" ON "public"."sessions" USING gin ("pairs");

-- create_index public.sessions.idx_sessions_settlement_discovery
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE INDEX CONCURRENTLY "idx_sessions_settlement_discovery" ON "public"."sessions" USING btree ("startedat") WHERE ((settlesession = true) AND ((settledcomplete IS NULL) OR (settledcomplete = false)));

-- create_index public.orders.idx_orders_session_symbol
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE INDEX CONCURRENTLY "idx_orders_session_symbol" ON "public"."orders" USING btree ("sessionid", "symbol");

-- create_index public.orders.idx_orders_symbol_status
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE INDEX CONCURRENTLY "idx_orders_symbol_status" ON "public"."orders" USING btree ("symbol", "status");

-- create_index public.fills.idx_fills_session_symbol
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE INDEX CONCURRENTLY "idx_fills_session_symbol" ON "public"."fills" USING btree ("sessionid", "symbol");

-- create_index public.fills.idx_fills_session_order_symbol
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE INDEX CONCURRENTLY "idx_fills_session_order_symbol" ON "public"."fills" USING btree ("sessionid", "orderid", "symbol");

-- create_index public.fills.idx_fills_unique_dedup
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE UNIQUE INDEX CONCURRENTLY "idx_fills_unique_dedup" ON "public"."fills" USING btree ("sessionid", "orderid", "symbol", "timestamp", "price", (COALESCE(size, amount)));

-- create_index public.fills.idx_fills_symbol_timestamp
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
CREATE INDEX CONCURRENTLY "idx_fills_symbol_timestamp" ON "public"."fills" USING btree ("symbol", "timestamp" DESC);
