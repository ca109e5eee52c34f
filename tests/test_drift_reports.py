"""drift names the last apply whatever its outcome, and reports a refused plan as drift (exit 2)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_sql
from tests.outside import Shell

FAILING = """\
version: 1
tables:
  t:
    columns:
      id: {type: integer, nullable: false}
      v:  {type: integer}
    primary_key: [id]
    indexes:
      idx_t_inverse: {columns: [{expr: "(1 / v)"}]}
"""


@pytest.mark.one_major
def test_drift_names_a_failed_last_apply(shell: Shell, db: str, scratch_dsn: str) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, v integer); INSERT INTO t VALUES (1, 0)")
    shell.write("schema.yaml", FAILING)
    target = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", "--yes", *target)
    assert applied.code == 1, applied.output

    text = shell.run("drift", *target)
    assert text.code == 2, text.output
    assert "none recorded" not in text.output
    assert "Last apply: run 1 failed, finished " in text.stdout, text.output

    data = json.loads(shell.run("drift", "--format", "json", *target).stdout)
    assert data["last_apply"]["run"] == 1
    assert data["last_apply"]["outcome"] == "failed"
    assert data["last_apply"]["finished_at"]


INHERITED = """\
version: 1
tables:
  events:
    columns:
      id: {type: bigint}
      kind: {type: text}
  clicks:
    columns:
      id: {type: bigint}
      x: {type: text}
"""


@pytest.mark.one_major
def test_drift_reports_a_plan_refused_by_inheritance_as_drift(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE events (id bigint); CREATE TABLE clicks (x text) INHERITS (events)")
    # a new column on the parent would reach the child: the plan is refused
    shell.write("schema.yaml", INHERITED)
    target = ("-d", db, "--dev-database", scratch_dsn)
    text = shell.run("drift", *target)
    assert text.code == 2, text.output
    assert "Traceback" not in text.output
    assert "table public.events is inherited by public.clicks (table inheritance)" in text.output
    assert "Drift: DRIFT" in text.stdout

    data = json.loads(shell.run("drift", "--format", "json", *target).stdout)
    assert data["drift"] is True
    assert any("inherited by public.clicks" in line for line in data["refused"])

    # a bad file stays exit 1
    shell.write("schema.yaml", "version: 1\ntables:\n  clicks:\n    inherits: [events]\n")
    assert shell.run("drift", *target).code == 1


@pytest.mark.one_major
def test_drift_with_only_undeclared_objects_does_not_say_the_database_matches(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, v integer); CREATE TABLE stale (id int)")
    shell.write("schema.yaml", FAILING.split("    indexes:")[0])
    target = ("-d", db, "--dev-database", scratch_dsn)
    for fmt in ("text", "markdown"):
        result = shell.run("drift", "--format", fmt, *target)
        assert result.code == 2, result.output
        assert "matches the file" not in result.output, result.output
        assert "public.stale" in result.output, result.output
