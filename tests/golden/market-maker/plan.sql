-- mmschema plan for TARGET; fingerprint FINGERPRINT
-- run with: psql -v ON_ERROR_STOP=1 -f <this file>
-- 12 changes
-- each step commits on its own, as apply runs it: a lock timeout or an error stops
-- the script where it is; plan again for what is left

SET lock_timeout = '3000ms';

-- add_column public.sessions.pairs
--   lock: ACCESS EXCLUSIVE
BEGIN;
SET statement_timeout = '1800000ms';
ALTER TABLE "public"."sessions" ADD COLUMN "pairs" jsonb DEFAULT ('[]'::jsonb) NOT NULL;
COMMIT;

-- add_column public.sessions.pair_count
--   lock: ACCESS EXCLUSIVE
BEGIN;
ALTER TABLE "public"."sessions" ADD COLUMN "pair_count" integer DEFAULT (0) NOT NULL;
COMMIT;
SET statement_timeout = '0';
-- backfill public.sessions.(pairs, pair_count) in batches, each committed
DO $mmschema$
DECLARE
  lo_1 "public"."sessions"."id"%TYPE;
  hi_1 "public"."sessions"."id"%TYPE;
  up_1 "public"."sessions"."id"%TYPE;
  started boolean := false;
  size bigint := 200;
  began timestamptz;
  tries integer;
  n bigint;
  done bigint := 0;
  batches bigint := 0;
BEGIN
  SELECT "id" INTO lo_1 FROM "public"."sessions" ORDER BY "id" LIMIT 1;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT "id" INTO up_1 FROM "public"."sessions" ORDER BY "id" DESC LIMIT 1;
  LOOP
    SELECT "id" INTO hi_1 FROM (SELECT "id" FROM "public"."sessions" WHERE ("id") >= (lo_1) AND NOT (started AND ("id") = (lo_1)) AND ("id") <= (up_1) ORDER BY "id" LIMIT size) AS w ORDER BY "id" DESC LIMIT 1;
    EXIT WHEN NOT FOUND;
    tries := 0;
    LOOP
      BEGIN
        began := clock_timestamp();
        UPDATE "public"."sessions" SET "pairs" = CASE WHEN symbol IS NOT NULL THEN (jsonb_build_array(symbol)) ELSE "pairs" END, "pair_count" = (CASE WHEN symbol IS NULL THEN 0 ELSE 1 END) WHERE ("id") >= (lo_1) AND NOT (started AND ("id") = (lo_1)) AND ("id") <= (hi_1) AND (((symbol IS NOT NULL) AND "pairs" IS DISTINCT FROM (jsonb_build_array(symbol))) OR ("pair_count" IS DISTINCT FROM (CASE WHEN symbol IS NULL THEN 0 ELSE 1 END)));
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT;
      EXCEPTION WHEN lock_not_available THEN
        tries := tries + 1;
        IF tries > 5 THEN RAISE; END IF;
        RAISE NOTICE 'backfill public.sessions.(pairs, pair_count): lock timeout, retry % of 5', tries;
        PERFORM pg_sleep(0.1 * tries);
      END;
    END LOOP;
    COMMIT;
    done := done + n;
    batches := batches + 1;
    IF clock_timestamp() - began < interval '20 ms' THEN size := least(size * 2, 100000);
    ELSIF clock_timestamp() - began > interval '80 ms' THEN size := greatest(size / 2, 10);
    END IF;
    lo_1 := hi_1;
    started := true;
  END LOOP;
  RAISE NOTICE 'backfill public.sessions.(pairs, pair_count): % rows in % batches', done, batches;
END
$mmschema$;

-- add_column public.orders.pair_index
--   lock: ACCESS EXCLUSIVE
BEGIN;
SET statement_timeout = '1800000ms';
ALTER TABLE "public"."orders" ADD COLUMN "pair_index" integer DEFAULT (0) NOT NULL;
COMMIT;

-- create_index public.sessions.idx_sessions_pair_count
--   lock: SHARE UPDATE EXCLUSIVE, outside a transaction
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
