"""Online type changes: expand/contract on big tables, resumable, abandoned cleanly."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

import mmschema.apply
import mmschema.backfill
import mmschema.blockranges
from tests.clirunner import run_against
from tests.conftest import query, run_sql
from tests.outside import Shell

pytestmark = pytest.mark.flaky(reruns=2, reruns_delay=1)

ROWS = 20_000
BEFORE = f"""
CREATE TABLE fills (id serial PRIMARY KEY, price numeric(18, 8) NOT NULL, size numeric,
                    note text);
CREATE INDEX fills_price ON fills (price);
CREATE TABLE legs (id serial PRIMARY KEY, fill_id integer NOT NULL REFERENCES fills (id),
                   qty integer);
INSERT INTO fills (price, size) SELECT 100 + g * 0.25, g % 7 FROM generate_series(1, {ROWS}) g;
INSERT INTO legs (fill_id, qty) SELECT 1 + g % {ROWS}, g FROM generate_series(1, 2000) g;
ANALYZE fills; ANALYZE legs;
"""

COLUMNS_OLD = """
  fills:
    columns:
      id: {type: serial, nullable: false}
      price: {type: "numeric(18,8)", nullable: false}
      size: {type: numeric}
      note: {type: text}
    primary_key: [id]
    indexes:
      fills_price: {columns: [price]}
  legs:
    columns:
      id: {type: serial, nullable: false}
      fill_id: {type: integer, nullable: false}
      qty: {type: integer}
    primary_key: [id]
    foreign_keys:
      legs_fill_id_fkey: {columns: [fill_id], references: {table: fills, columns: [id]}}
"""
SETTINGS = "settings: {online_type_change_rows: 1000, online_type_change_method: shadow}\n"
OLD = "version: 1\n" + SETTINGS + "tables:" + COLUMNS_OLD
NEW = (
    OLD.replace(
        "id: {type: serial, nullable: false}\n      price",
        "id: {type: bigserial, nullable: false}\n      price",
    )
    .replace(
        'price: {type: "numeric(18,8)", nullable: false}',
        "price: {type: double precision, nullable: false}",
    )
    .replace("fill_id: {type: integer", "fill_id: {type: bigint")
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    return path


def types(db: str) -> dict[str, str]:
    rows = query(
        db,
        "SELECT attrelid::regclass || '.' || attname, format_type(atttypid, atttypmod)"
        " FROM pg_attribute WHERE attrelid IN ('fills'::regclass, 'legs'::regclass)"
        " AND attnum > 0 AND NOT attisdropped",
    )
    return {str(k): str(v) for k, v in rows}


def leftovers(db: str) -> list[tuple[Any, ...]]:
    return query(
        db,
        "SELECT 'column ' || attname FROM pg_attribute WHERE attrelid = 'fills'::regclass"
        " AND attname LIKE '\\_mms%' AND NOT attisdropped"
        " UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgname LIKE '\\_mms%'"
        " UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proname LIKE '\\_mms%'"
        " UNION ALL SELECT 'index ' || relname FROM pg_class WHERE relname LIKE '\\_mms%'",
    )


def hot_updates(db: str) -> int:
    """fills' HOT updates, once the statistics of the apply's sessions arrived."""
    found = 0
    for _ in range(50):
        found = int(
            query(db, "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'fills'")[0][0]
        )
        if found > ROWS // 2:
            break
        time.sleep(0.1)
    return found


def test_plan_shows_the_online_steps_and_apply_converges(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(db, BEFORE)
    total = query(db, "SELECT count(*), sum(price)::float8, sum(id) FROM fills")
    shell.write("schema.yaml", NEW)
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *common)
    assert planned.code == 0, planned.output
    text = planned.stdout
    for step in (
        "retype_online_expand public.fills.price",
        "retype_online_backfill public.fills.(id, price)",
        "create_index public.fills._mms_new_fills_price",
        "retype_online_swap public.fills.price",
        "retype_online_swap public.fills.id",
        "CREATE INDEX CONCURRENTLY",
        "LOCK TABLE",
    ):
        assert step in text, text
    assert "rewrite" not in text.split("Plan:")[-1]  # no rewriting hazard left
    applied = shell.run("apply", "--yes", *common)
    assert applied.code == 0, applied.output
    assert types(db) == {
        "fills.id": "bigint",
        "fills.price": "double precision",
        "fills.size": "numeric",
        "fills.note": "text",
        "legs.id": "integer",
        "legs.fill_id": "bigint",
        "legs.qty": "integer",
    }
    assert leftovers(db) == []
    assert query(db, "SELECT count(*), sum(price)::float8, sum(id) FROM fills") == total
    assert query(
        db,
        "SELECT data_type FROM information_schema.sequences WHERE sequence_name = 'fills_id_seq'",
    ) == [("bigint",)]
    assert query(
        db, "SELECT convalidated FROM pg_constraint WHERE conname = 'legs_fill_id_fkey'"
    ) == [(True,)]
    # the backfill sliced the full pages: most new row versions stayed on their page
    assert hot_updates(db) > ROWS // 2
    run_sql(db, "INSERT INTO fills (price) VALUES (1.5)")  # the default still works
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output
    # PostgreSQL cannot reorder columns: the retyped ones are last now, and column order
    # is not compared, so neither plan nor drift sees a difference
    order = query(
        db,
        "SELECT attname FROM pg_attribute WHERE attrelid = 'fills'::regclass"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    assert [r[0] for r in order][:2] == ["size", "note"]
    drifted = shell.run("drift", "-d", db, "--dev-database", scratch_dsn)
    assert drifted.code == 0, drifted.output


def test_small_tables_keep_the_plain_alter(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, BEFORE)
    write(
        tmp_path, NEW.replace("online_type_change_rows: 1000", "online_type_change_rows: 1000000")
    )
    result = run_against(["plan"], db, scratch_dsn, tmp_path)
    assert "retype_online" not in result.stdout
    assert "alter_column_type public.fills.price" in result.stdout


def test_views_and_policies_are_made_again_in_the_swap(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        BEFORE + "CREATE VIEW cheap AS SELECT id, price FROM fills WHERE price < 200;"
        "CREATE VIEW cheapest AS SELECT * FROM cheap WHERE price < 150;"
        "DO $$ BEGIN CREATE ROLE mms_online_reader; EXCEPTION WHEN duplicate_object THEN"
        " NULL; END $$;"
        "GRANT SELECT ON cheap TO mms_online_reader;"
        "ALTER TABLE fills ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY positive ON fills USING (price > 0);",
    )
    shell.write("schema.yaml", NEW)
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *common)
    assert planned.code == 0, planned.output
    assert "not online" not in planned.stdout, planned.stdout
    swap = planned.stdout.split("retype_online_swap public.fills.price")[1]
    swap = swap.split("retype_online_swap")[0]
    for statement in (
        'DROP VIEW IF EXISTS "public"."cheapest"',
        'DROP POLICY IF EXISTS "positive"',
        'CREATE VIEW "public"."cheap"',
        "GRANT SELECT ON",
        'CREATE POLICY "positive"',
    ):
        assert statement in swap, planned.stdout
    applied = shell.run("apply", "--yes", *common)
    assert applied.code == 0, applied.output
    assert query(
        db,
        "SELECT table_name, data_type FROM information_schema.columns"
        " WHERE table_name IN ('cheap', 'cheapest') AND column_name = 'price' ORDER BY 1",
    ) == [("cheap", "double precision"), ("cheapest", "double precision")]
    assert query(
        db,
        "SELECT has_table_privilege('mms_online_reader', 'cheap', 'SELECT'),"
        " (SELECT count(*) FROM pg_policy WHERE polname = 'positive')",
    ) == [(True, 1)]
    assert query(db, "SELECT count(*) FROM cheapest") == [(199,)]
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


def test_a_view_pruned_first_is_not_made_again_by_the_swap(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, BEFORE + "CREATE VIEW cheap AS SELECT id, price FROM fills WHERE price < 200;")
    write(tmp_path, NEW)
    applied = run_against(
        ["apply", "--yes", "--prune", "--allow", "destructive"], db, scratch_dsn, tmp_path
    )
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, "SELECT count(*) FROM pg_views WHERE viewname = 'cheap'") == [(0,)]
    assert types(db)["fills.price"] == "double precision"


def test_generated_columns_and_partitioned_tables_keep_the_plain_alter_and_say_why(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        BEFORE + "ALTER TABLE fills ADD COLUMN doubled numeric GENERATED ALWAYS AS (price * 2)"
        " STORED;"
        "CREATE TABLE ticks (at date NOT NULL, qty integer) PARTITION BY RANGE (at);"
        "CREATE TABLE ticks_2026 PARTITION OF ticks"
        " FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
        "INSERT INTO ticks SELECT '2026-01-01'::date + g % 300, g"
        " FROM generate_series(1, 3000) g; ANALYZE ticks_2026; ANALYZE ticks;",
    )
    ticks = (
        "  ticks:\n    columns:\n      at: {type: date, nullable: false}\n"
        "      qty: {type: QTY}\n    partition_by: RANGE (at)\n  ticks_2026:\n"
        "    partition_of: {table: ticks, bound: \"FOR VALUES FROM ('2026-01-01')"
        " TO ('2027-01-01')\"}\n"
    )
    new = NEW.replace(
        "note: {type: text}",
        'note: {type: text}\n      doubled: {type: numeric, generated: "price * 2"}',
    )
    shell.write("schema.yaml", new + ticks.replace("QTY", "bigint"))
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *common)
    assert planned.code == 0, planned.output
    text = " ".join(planned.stdout.split())
    assert "not online: stored generated columns read it" in text, planned.stdout
    assert "not online: the table is partitioned or a partition" in text, planned.stdout
    assert "retype_online_swap public.fills" not in text


def interrupt_backfill(monkeypatch: pytest.MonkeyPatch) -> None:
    real = mmschema.backfill.run_backfill

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        real(*args, **{**kwargs, "max_batches": 1})
        raise KeyboardInterrupt

    monkeypatch.setattr(mmschema.apply, "run_backfill", interrupted)


def test_interrupted_then_resumed_under_writes(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(db, BEFORE)
    write(tmp_path, NEW)
    interrupt_backfill(monkeypatch)
    first = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert first.code == 130, first.stdout + first.stderr
    assert "column _mms_new_id" in [r[0] for r in leftovers(db)] or leftovers(db)
    # plain casts: rows already in sync (the backfill's own updates) skip the function
    skipping = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_mms%' AND tgqual IS NOT NULL"
    assert query(db, skipping) == [(2,)]
    shown = run_against(["plan"], db, scratch_dsn, tmp_path)
    assert "in flight: shadow column" in shown.stdout
    assert "may_fail" not in shown.stdout, shown.stdout
    assert "--prune drops it" not in shown.stdout, shown.stdout
    monkeypatch.undo()

    stop = threading.Event()
    errors: list[BaseException] = []
    written = [0]

    def writer() -> None:
        deadline = time.monotonic() + 60
        try:
            with psycopg.connect(db, autocommit=True) as conn:
                while not stop.is_set() and time.monotonic() < deadline:
                    conn.execute("INSERT INTO fills (price, size) VALUES (7.25, 1)")
                    conn.execute("UPDATE fills SET price = price + 1 WHERE id = 17")
                    # rows the backfill has not reached yet, through another column
                    conn.execute(
                        "UPDATE fills SET size = 1 WHERE id = %s", (ROWS - written[0] % 5000,)
                    )
                    written[0] += 1
                    time.sleep(0.002)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        second = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert second.code == 0, second.stdout + second.stderr
    assert written[0] > 10
    assert leftovers(db) == []
    assert types(db)["fills.price"] == "double precision"
    expected = ROWS + written[0]
    assert query(db, "SELECT count(*) FROM fills") == [(expected,)]
    third = run_against(["plan", "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert third.code == 0, third.stdout + third.stderr


def test_going_back_before_the_swap_removes_the_shadow(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(db, BEFORE)
    interrupt_backfill(monkeypatch)
    write(tmp_path, NEW)
    first = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert first.code == 130
    assert leftovers(db)
    monkeypatch.undo()
    write(tmp_path, OLD)
    shown = run_against(["plan"], db, scratch_dsn, tmp_path)
    assert "retype_online_abandon public.fills" in shown.stdout
    back = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert back.code == 0, back.stdout + back.stderr
    assert leftovers(db) == []
    assert types(db)["fills.price"] == "numeric(18,8)"


@pytest.mark.parametrize("stop_after", ["create_index", "retype_online_swap"])
def test_stopped_between_steps_then_apply_converges(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_after: str
) -> None:
    """Ctrl-C after any step: the next plan shows what is left, the next apply finishes."""
    run_sql(db, BEFORE)
    write(tmp_path, NEW)
    real = mmschema.apply._apply_change

    def stopping(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        if outcome.change.kind == stop_after:
            raise KeyboardInterrupt
        return outcome

    monkeypatch.setattr(mmschema.apply, "_apply_change", stopping)
    first = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert first.code == 130, first.stdout + first.stderr
    monkeypatch.undo()
    shown = run_against(["plan", "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert shown.code == 2 and "retype_online_swap" in shown.stdout
    assert "--prune drops it" not in shown.stdout, shown.stdout
    second = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert second.code == 0, second.stdout + second.stderr
    assert leftovers(db) == []
    assert types(db)["fills.id"] == "bigint" and types(db)["legs.fill_id"] == "bigint"
    assert query(db, "SELECT count(*) FROM fills") == [(ROWS,)]
    assert query(
        db, "SELECT convalidated FROM pg_constraint WHERE conname = 'legs_fill_id_fkey'"
    ) == [(True,)]


def test_killed_backend_during_the_backfill_then_apply_converges(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(db, BEFORE)
    write(tmp_path, NEW)
    real = mmschema.backfill.run_backfill

    def killed(conn: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Any:
        real(conn, *args, **{**kwargs, "max_batches": 1})
        query(db, "SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(mmschema.apply, "run_backfill", killed)
    first = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert first.code != 0
    monkeypatch.undo()
    second = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert second.code == 0, second.stdout + second.stderr
    assert leftovers(db) == []
    assert types(db)["fills.price"] == "double precision"


def test_identity_key_goes_on_from_its_next_value(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(
        db,
        "CREATE TABLE ev (id integer GENERATED ALWAYS AS IDENTITY (INCREMENT BY 2) PRIMARY KEY,"
        " v integer NOT NULL);"
        "INSERT INTO ev (v) SELECT g FROM generate_series(1, 5000) g; ANALYZE ev;",
    )
    before = query(db, "SELECT max(id), sum(v) FROM ev")[0]
    write(
        tmp_path,
        "version: 1\n" + SETTINGS + "tables:\n  ev:\n    columns:\n"
        "      id: {type: bigint, nullable: false, identity: {generated: always, increment: 2}}\n"
        "      v: {type: integer, nullable: false}\n    primary_key: [id]\n",
    )
    planned = run_against(["plan"], db, scratch_dsn, tmp_path)
    assert "retype_online_swap public.ev.id" in planned.stdout, planned.stdout
    applied = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, "SELECT max(id), sum(v) FROM ev")[0] == before
    run_sql(db, "INSERT INTO ev (v) VALUES (1)")
    new_id = query(db, "SELECT max(id) FROM ev")[0][0]
    assert new_id > before[0] and (new_id - before[0]) % 2 == 0
    assert query(db, "SELECT pg_get_serial_sequence('ev', 'id')") == [("public.ev_id_seq",)]
    assert query(
        db,
        "SELECT attidentity, format_type(atttypid, NULL) FROM pg_attribute"
        " WHERE attrelid = 'ev'::regclass AND attname = 'id'",
    ) == [("a", "bigint")]
    again = run_against(["plan", "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr


ORDERS = """
CREATE TABLE orders (id serial PRIMARY KEY, ref text NOT NULL, qty numeric);
INSERT INTO orders (ref, qty) SELECT g::text, g FROM generate_series(1, 3000) g;
UPDATE orders SET ref = 'n/a ' || id WHERE id IN (7, 700);
UPDATE orders SET ref = '99999999999' WHERE id = 1500;
ANALYZE orders;
"""


def orders_file(ref: str, extra: str = "") -> str:
    return (
        "version: 1\n" + SETTINGS + "tables:\n  orders:\n    columns:\n"
        "      id: {type: serial, nullable: false}\n"
        f"      ref: {ref}\n"
        "      qty: {type: numeric}\n    primary_key: [id]\n" + extra
    )


def test_rows_the_conversion_rejects_refuse_the_online_change(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    # '0042' and '42' are one integer: the unique index over the column would break
    run_sql(
        db,
        ORDERS + "CREATE UNIQUE INDEX orders_ref ON orders (ref);"
        "UPDATE orders SET ref = '0042' WHERE id = 2000;",
    )
    shell.write(
        "schema.yaml",
        orders_file(
            '{type: integer, nullable: false, using: "ref::integer"}',
            "    indexes:\n      orders_ref: {columns: [ref], unique: true}\n",
        ),
    )
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *common)
    assert planned.code == 0, planned.output
    assert "retype_online_expand public.orders.ref" in planned.stdout, planned.stdout
    text = " ".join(planned.stdout.split())
    assert "may_fail: 3 rows of public.orders fail the conversion of ref" in text, text
    applied = shell.run("apply", "--yes", *common)
    assert applied.code == 3, applied.output
    assert "apply refused" in applied.stderr and "Traceback" not in applied.output
    assert (
        query(
            db,
            "SELECT attname FROM pg_attribute WHERE attrelid = 'orders'::regclass"
            " AND attname LIKE '\\_mms%' AND NOT attisdropped",
        )
        == []
    )
    assert query(db, "SELECT tgname FROM pg_trigger WHERE tgname LIKE '\\_mms%'") == []
    run_sql(db, "UPDATE orders SET ref = (100000 + id)::text WHERE ref !~ '^[0-9]{1,9}$'")
    collide = shell.run("apply", "--yes", *common)  # all convert now, two to one key
    assert collide.code == 3, collide.output
    assert "1 duplicate groups under unique index orders_ref" in collide.stderr, collide.output
    run_sql(db, "UPDATE orders SET ref = '100042' WHERE ref = '0042'")
    fixed = shell.run("apply", "--yes", *common)
    assert fixed.code == 0, fixed.output
    assert query(
        db,
        "SELECT format_type(atttypid, NULL) FROM pg_attribute"
        " WHERE attrelid = 'orders'::regclass AND attname = 'ref'",
    ) == [("integer",)]


def test_checks_and_index_expressions_move_to_the_shadow(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        ORDERS + "UPDATE orders SET ref = id::text;"
        "ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0 AND qty < 1e9);"
        "CREATE INDEX orders_double ON orders ((qty * 2));"
        "CREATE INDEX orders_big ON orders (id) WHERE qty > 100;"
        "CREATE INDEX orders_lower ON orders (lower(ref));",
    )
    extra = (
        '    checks:\n      orders_qty_positive: "qty > 0 AND qty < 1e9"\n'
        "    indexes:\n"
        '      orders_double: {columns: [{expr: "qty * 2"}]}\n'
        '      orders_big: {columns: [id], where: "qty > 100"}\n'
        '      orders_lower: {columns: [{expr: "lower(ref)"}]}\n'
    )
    old = orders_file("{type: text, nullable: false}", extra)
    shell.write("schema.yaml", old)
    common = ("-d", db, "--dev-database", scratch_dsn)
    assert shell.run("plan", "--detailed-exitcode", *common).code == 0
    shell.write(
        "schema.yaml",
        old.replace("qty: {type: numeric}", "qty: {type: double precision}")
        .replace(
            "ref: {type: text, nullable: false}",
            'ref: {type: integer, nullable: false, using: "ref::integer"}',
        )
        .replace("lower(ref)", "abs(ref)")
        .replace('      orders_big: {columns: [id], where: "qty > 100"}\n', ""),
    )
    planned = shell.run("plan", "--prune", *common)  # orders_big is dropped
    assert planned.code == 0, planned.output
    assert "not online" not in planned.stdout, planned.stdout
    assert "drop_index public.orders.orders_big" in planned.stdout, planned.stdout
    for step in (
        "retype_online_swap public.orders.qty",
        "create_index public.orders._mms_new_orders_double",
        "validate_constraint public.orders._mms_new_orders_qty_positive",
    ):
        assert step in planned.stdout, planned.stdout
    applied = shell.run("apply", "--yes", "--prune", *common)
    assert applied.code == 0, applied.output
    assert query(
        db,
        "SELECT conname, convalidated FROM pg_constraint"
        " WHERE conrelid = 'orders'::regclass AND contype = 'c'",
    ) == [("orders_qty_positive", True)]
    assert sorted(
        r[0] for r in query(db, "SELECT indexname FROM pg_indexes WHERE tablename = 'orders'")
    ) == ["orders_double", "orders_lower", "orders_pkey"]
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output
    assert query(db, "SELECT count(*) FROM orders WHERE qty > 100") == [(2900,)]


def test_a_big_backfill_walks_block_ranges_on_two_connections_under_writes(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(db, BEFORE)
    monkeypatch.setattr(mmschema.blockranges, "MIN_BLOCKS_PER_WORKER", 10)
    write(tmp_path, NEW)
    stop = threading.Event()
    errors: list[BaseException] = []
    written = [0]

    def writer() -> None:
        try:
            with psycopg.connect(db, autocommit=True) as conn:
                while not stop.is_set() and written[0] < 20_000:
                    conn.execute("INSERT INTO fills (price, size) VALUES (7.25, 1)")
                    # rows on both sides of the split, reached or not yet
                    for row in (1 + written[0] % ROWS, ROWS - written[0] % ROWS):
                        conn.execute("UPDATE fills SET size = size + 1 WHERE id = %s", (row,))
                    written[0] += 1
                    time.sleep(0.002)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = run_against(["apply", "--yes"], db, scratch_dsn, tmp_path)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert result.code == 0, result.stdout + result.stderr
    assert "batches on 2 connections" in result.stderr, result.stderr
    assert leftovers(db) == []
    assert types(db)["fills.id"] == "bigint" and types(db)["fills.price"] == "double precision"
    assert query(db, "SELECT count(*) FROM fills") == [(ROWS + written[0],)]
    # every row there was has its own value, cast
    wrong = f"SELECT count(*) FROM fills WHERE id <= {ROWS} AND price <> 100 + id * 0.25"
    assert query(db, wrong) == [(0,)]
    assert query(db, "SELECT count(*) FROM fills WHERE id > %s AND price <> 7.25", [ROWS]) == [(0,)]
    again = run_against(["plan", "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr


def test_an_autovacuum_holding_the_table_is_cancelled_not_waited_for(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    """The expand and swap wait 100 ms for their locks (writers queue behind a waiting
    lock); the server cancels an autovacuum for a waiter only after deadlock_timeout (1s),
    so the brief steps cancel it themselves, and do not retry until it is done."""
    run_sql(db, BEFORE)
    run_sql(
        db,
        "ALTER TABLE fills SET (autovacuum_vacuum_threshold = 0,"
        " autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100,"
        " autovacuum_vacuum_cost_limit = 1);"
        "UPDATE fills SET size = size WHERE id <= 5000",
    )
    superuser = query(db, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]
    if not superuser:
        pytest.skip("only a superuser may cancel autovacuum workers")
    run_sql(db, "ALTER SYSTEM SET autovacuum_naptime = 1; SELECT pg_reload_conf()")
    try:
        worker: list[tuple[Any, ...]] = []
        deadline = time.monotonic() + 30
        while not worker and time.monotonic() < deadline:
            time.sleep(0.3)
            worker = query(
                db,
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                " AND datname = current_database() AND query LIKE '%fills%'",
            )
        assert worker, "no autovacuum of fills started"
        shell.write("schema.yaml", NEW)
        began = time.monotonic()
        applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
        took = time.monotonic() - began
    finally:
        run_sql(db, "ALTER SYSTEM RESET autovacuum_naptime; SELECT pg_reload_conf()")
    assert applied.code == 0, applied.output
    assert "cancelled autovacuum" in applied.output, applied.output
    assert took < 60, applied.output
    assert types(db)["fills.price"] == "double precision" and leftovers(db) == []


def test_a_resumed_backfill_counts_the_rows_left_that_fail_the_conversion(
    db: str, scratch_dsn: str, shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-flight runs again when an earlier apply left the shadow column, on the rows
    the backfill has not filled: rows written between the first pre-flight and the sync
    trigger can hold values the conversion rejects."""
    run_sql(db, ORDERS + "UPDATE orders SET ref = id::text WHERE ref !~ '^[0-9]{1,9}$';")
    shell.write(
        "schema.yaml", orders_file('{type: integer, nullable: false, using: "ref::integer"}')
    )
    real = mmschema.apply._apply_change

    def racing(conn: psycopg.Connection[Any], planned: Any, *args: Any, **kwargs: Any) -> Any:
        if planned.kind == "retype_online_expand":  # after the pre-flight, before the trigger
            run_sql(db, "UPDATE orders SET ref = 'n/a ' || id WHERE id IN (10, 2000, 2999)")
        return real(conn, planned, *args, **kwargs)

    monkeypatch.setattr(mmschema.apply, "_apply_change", racing)
    first = run_against(["apply", "--yes"], db, scratch_dsn, shell.project)
    assert first.code == 1, first.stdout + first.stderr  # the backfill meets 'n/a 10'
    monkeypatch.undo()
    common = ("-d", db, "--dev-database", scratch_dsn)
    resumed = shell.run("plan", *common)
    assert resumed.code == 0, resumed.output
    assert "retype_online_expand" not in resumed.stdout, resumed.stdout
    text = " ".join(resumed.stdout.split())
    assert "may_fail: 3 rows of public.orders fail the conversion of ref" in text, text
    refused = shell.run("apply", "--yes", *common)
    assert refused.code == 3, refused.output
    run_sql(db, "UPDATE orders SET ref = id::text WHERE ref !~ '^[0-9]{1,9}$'")
    fixed = shell.run("apply", "--yes", *common)
    assert fixed.code == 0, fixed.output
    assert query(db, "SELECT sum(ref) FROM orders") == [(3000 * 3001 // 2,)]
