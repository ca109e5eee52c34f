"""Pre-flight counts for new constraints: duplicates, check violations, foreign-key orphans."""

from __future__ import annotations

import json
from pathlib import Path

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
