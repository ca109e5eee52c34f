"""Pre-flight counts for new constraints: duplicates, check violations, foreign-key orphans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmschema.localserver import LocalServer
from tests.clirunner import run_cli
from tests.conftest import query, run_sql

SCHEMA = """
version: 1
tables:
  sessions:
    columns:
      id: {type: text}
    primary_key: [id]
  orders:
    columns:
      id: {type: int}
      sessionid: {type: text}
      code: {type: text}
      qty: {type: int}
    primary_key: [id]
    unique:
      orders_code_key: {columns: [code]}
    checks:
      orders_qty_positive: qty > 0
    foreign_keys:
      orders_session_fkey: {columns: [sessionid], references: {table: sessions}}
"""
BEFORE = """
CREATE TABLE sessions (id text PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY, sessionid text, code text, qty int);
INSERT INTO sessions VALUES ('s1');
INSERT INTO orders VALUES
  (1, 's1', 'a', 1), (2, 's1', 'a', 2), (3, 'gone', 'b', 0),
  (4, NULL, NULL, NULL), (5, NULL, NULL, -1);
"""


def test_constraint_preflight_counts_offenders_and_apply_refuses(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, BEFORE)
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    common = ["-f", str(schema), "-d", db, "--dev-database", scratch_dsn]
    plan = run_cli(["plan", *common, "--format", "json"], tmp_path)
    assert plan.code == 0, plan.stderr
    details = {
        c["object"].rsplit(".", 1)[1]: [
            h["detail"] for h in c["hazards"] if h["kind"] == "may_fail"
        ]
        for c in json.loads(plan.stdout)["changes"]
        if c["kind"].startswith("add_")
    }
    assert details["orders_code_key"][0].startswith("1 duplicate groups")
    assert details["orders_qty_positive"][0].startswith("2 rows break check")
    assert details["orders_session_fkey"][0].startswith("1 rows have no match")

    refused = run_cli(["apply", *common, "--yes", "--allow", "destructive"], tmp_path)
    assert refused.code == 3
    constraints = "SELECT contype FROM pg_constraint WHERE conrelid = 'orders'::regclass"
    assert query(db, f"{constraints} AND contype <> 'n'") == [("p",)]

    run_sql(db, "DELETE FROM orders WHERE id IN (2, 3, 5)")
    applied = run_cli(["apply", *common, "--yes"], tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    again = run_cli(["plan", *common, "--detailed-exitcode"], tmp_path)
    assert again.code == 0


def test_values_the_new_type_cannot_hold_are_counted(
    db: str, scratch_dsn: str, tmp_path: Path, pg_server: LocalServer
) -> None:
    if pg_server.major < 16:
        pytest.skip("pg_input_is_valid needs PostgreSQL 16")
    run_sql(
        db,
        "CREATE TABLE q (id int PRIMARY KEY, qty text, code varchar(20));"
        "INSERT INTO q VALUES (1, '10', 'ab'), (2, 'ten', 'abcdefghijkl'), (3, NULL, NULL)",
    )
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        "version: 1\ntables:\n  q:\n    columns:\n      id: {type: int}\n"
        "      qty: {type: integer}\n      code: {type: varchar(5)}\n    primary_key: [id]\n"
    )
    common = ["-f", str(schema), "-d", db, "--dev-database", scratch_dsn]
    plan = json.loads(run_cli(["plan", *common, "--format", "json"], tmp_path).stdout)
    details = [
        h["detail"] for c in plan["changes"] for h in c["hazards"] if h["kind"] == "may_fail"
    ]
    assert len(details) == 2
    assert details[0].startswith("1 rows of qty do not fit integer")
    assert details[1].startswith("1 rows of code do not fit character varying(5)")
    refused = run_cli(["apply", *common, "--yes", "--allow", "rewrite,destructive"], tmp_path)
    assert refused.code == 3
    run_sql(db, "UPDATE q SET qty = '10', code = 'abc' WHERE id = 2")
    applied = run_cli(["apply", *common, "--yes", "--allow", "rewrite,destructive"], tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, "SELECT qty, code FROM q ORDER BY id") == [
        (10, "ab"),
        (10, "abc"),
        (None, None),
    ]
