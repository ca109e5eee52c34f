"""Triggers under `triggers:`, through the installed command: plan, apply, dump, hazards."""

from __future__ import annotations

import json

import psycopg
import pytest
import yaml

from tests.conftest import run_sql
from tests.outside import Shell, plan_code

BEFORE = """
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric, touched timestamptz);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
"""
FILE = """version: 1
tables:
  orders:
    columns:
      id: {type: bigint, nullable: false}
      total: {type: numeric}
      touched: {type: timestamptz}
    primary_key: [id]
triggers:
  orders.orders_touch:
    timing: before
    events: [insert, update]
    for_each: row
    when: NEW.total > 0
    function: touch
"""


@pytest.mark.one_major
def test_declared_triggers_fire_are_dumped_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    assert plan_code(shell, db, scratch_dsn) == 2
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:
        conn.execute("INSERT INTO orders VALUES (1, 5, NULL), (2, 0, NULL)")
        touched = conn.execute("SELECT id FROM orders WHERE touched IS NOT NULL").fetchall()
        assert touched == [(1,)]

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    section = yaml.safe_load(dumped.stdout)["triggers"]
    assert section["orders.orders_touch"] == {
        "timing": "before",
        "events": ["insert", "update"],
        "for_each": "row",
        "when": "new.total > CAST(0 AS numeric)",  # pglast prints the cast so
        "function": "public.touch",
    }
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0

    changed = FILE.replace("NEW.total > 0", "NEW.total > 10")
    shell.write("schema.yaml", changed)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    [change] = json.loads(planned.stdout)["changes"]
    assert change["kind"] == "replace_trigger"
    assert change["lock"] == "SHARE ROW EXCLUSIVE"
    assert change["sql"][0].startswith("CREATE OR REPLACE TRIGGER orders_touch BEFORE")


@pytest.mark.one_major
def test_a_trigger_added_to_a_busy_table_is_a_hazard_with_its_lock(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    with psycopg.connect(db) as reader:
        reader.execute("SELECT count(*) FROM orders")  # holds ACCESS SHARE, transaction open
        planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
        assert planned.code == 0, planned.output
        [change] = json.loads(planned.stdout)["changes"]
        assert change["lock"] == "SHARE ROW EXCLUSIVE"
        [hazard] = change["hazards"]
        assert hazard["kind"] == "blocking"
        assert "SHARE ROW EXCLUSIVE lock on public.orders" in hazard["detail"]
        assert "1 other session" in hazard["detail"]
        reader.rollback()
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    assert json.loads(planned.stdout)["changes"][0]["hazards"] == []


@pytest.mark.one_major
def test_a_when_that_is_not_one_expression_is_refused_before_any_server(shell: Shell) -> None:
    shell.write("schema.yaml", FILE.replace("NEW.total > 0", "true) EXECUTE FUNCTION evil(); --"))
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:14:11: when of trigger" in outcome.output
    assert "Traceback" not in outcome.output
    shell.write("schema.yaml", FILE.replace("orders.orders_touch:", "orders_touch:"))
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:10:3: trigger 'orders_touch' is not table.trigger" in outcome.output


@pytest.mark.one_major
def test_trigger_comments_are_set_kept_across_a_rebuild_dumped_and_left_alone_when_not_given(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    commented = FILE + "    comment: stamps the row\n"
    shell.write("schema.yaml", commented)
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert "COMMENT ON TRIGGER orders_touch ON public.orders IS 'stamps the row'" in (
        applied.output.replace('"', "")
    )
    assert plan_code(shell, db, scratch_dsn) == 0
    dumped = shell.run("dump", "-d", db)
    assert yaml.safe_load(dumped.stdout)["triggers"]["orders.orders_touch"]["comment"] == (
        "stamps the row"
    )

    # Not given: the live comment is left alone, also when the trigger is replaced.
    shell.write("schema.yaml", FILE.replace("NEW.total > 0", "NEW.total > 10"))
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger"
            " WHERE tgname = 'orders_touch'"
        ).fetchone()
    assert row == ("stamps the row",)

    # null removes it
    shell.write(
        "schema.yaml", FILE.replace("NEW.total > 0", "NEW.total > 10") + "    comment: null\n"
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    [change] = json.loads(planned.stdout)["changes"]
    assert change["kind"] == "set_trigger_comment"
    assert change["sql"] == ['COMMENT ON TRIGGER "orders_touch" ON "public"."orders" IS NULL']
    assert change["lock"] == "SHARE UPDATE EXCLUSIVE"


@pytest.mark.one_major
def test_declared_triggers_move_with_a_renamed_table(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        BEFORE
        + "CREATE TRIGGER kept BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();"
        "CREATE TRIGGER changed BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch();"
        "COMMENT ON TRIGGER kept ON orders IS 'keeps touched';",
    )
    renamed = FILE.replace("  orders:\n", "  sales:\n    renamed_from: orders\n", 1)
    renamed = renamed.split("triggers:")[0] + (
        "triggers:\n"
        "  sales.kept:\n    timing: before\n    events: [update]\n    for_each: row\n"
        "    function: touch\n    comment: keeps touched\n"
        "  sales.changed:\n    timing: before\n    events: [insert, update]\n"
        "    for_each: row\n    function: touch\n"
    )
    shell.write("schema.yaml", renamed)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    assert planned.code == 0, planned.output
    found = [(c["kind"], c["object"]) for c in json.loads(planned.stdout)["changes"]]
    # PostgreSQL 18 names NOT NULL constraints after the table: renamed with it
    found = [f for f in found if not f[1].endswith("_not_null")]
    assert found == [
        ("rename_table", "public.sales"),
        ("replace_trigger", "public.sales.changed"),
    ]
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
