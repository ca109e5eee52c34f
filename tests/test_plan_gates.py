"""Hazard gates: plan --fail-on exits 3; apply refuses hazards not allowed, and may_fail always."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql

# CLI and file behaviour: the same on every major.
pytestmark = pytest.mark.one_major

BEFORE = """
CREATE TABLE t (id int PRIMARY KEY, n int, legacy text);
INSERT INTO t VALUES (1, 1, 'x'), (2, 2, NULL);
"""
SCHEMA = """version: 1
{settings}tables:
  t:
    columns:
      id: {{type: integer, nullable: false}}
      n: {{type: {n_type}}}
      legacy: {{type: text, state: absent}}
    primary_key: [id]
"""


def schema_file(tmp: Path, n_type: str = "integer", settings: str = "") -> Path:
    path = tmp / "schema.yaml"
    path.write_text(SCHEMA.format(n_type=n_type, settings=settings))
    return path


def cli(args: list[str], schema: Path, db: str, scratch: str, cwd: Path) -> Result:
    return run_cli([*args, "-f", str(schema), "-d", db, "--dev-database", scratch], cwd)


def legacy_exists(db: str) -> bool:
    rows = query(
        db,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 't' AND column_name = 'legacy'",
    )
    return rows == [(1,)]


def test_plan_fail_on_exits_3_only_for_named_kinds(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, BEFORE)
    schema = schema_file(tmp_path)
    hit = cli(["plan", "--fail-on", "rewrite,destructive"], schema, db, scratch_dsn, tmp_path)
    assert hit.code == 3
    assert "destructive" in hit.stderr
    assert "drop_column" in hit.stdout  # the plan is still shown
    assert cli(["plan", "--fail-on", "rewrite"], schema, db, scratch_dsn, tmp_path).code == 0
    assert cli(["plan", "--fail-on", "nonsense"], schema, db, scratch_dsn, tmp_path).code == 1


def test_apply_refuses_destructive_without_allow(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, BEFORE)
    schema = schema_file(tmp_path)
    refused = cli(["apply", "--yes"], schema, db, scratch_dsn, tmp_path)
    assert refused.code == 3
    assert "refused: drop_column public.t.legacy: destructive" in refused.stderr
    assert "--allow" in refused.stderr
    assert legacy_exists(db)
    allowed = cli(["apply", "--yes", "--allow", "destructive"], schema, db, scratch_dsn, tmp_path)
    assert allowed.code == 0, allowed.stderr
    assert not legacy_exists(db)


def test_file_allow_covers_rewrite_but_not_destructive(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, BEFORE + "ALTER TABLE t DROP COLUMN legacy;")
    schema = schema_file(tmp_path, n_type="bigint")
    assert cli(["apply", "--yes"], schema, db, scratch_dsn, tmp_path).code == 3
    schema = schema_file(tmp_path, n_type="bigint", settings="settings:\n  allow: [rewrite]\n")
    result = cli(["apply", "--yes"], schema, db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    assert query(
        db,
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 't' AND column_name = 'n'",
    ) == [("bigint",)]


def test_may_fail_cannot_be_allowed(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, BEFORE + "ALTER TABLE t DROP COLUMN legacy; INSERT INTO t VALUES (3, NULL);")
    path = tmp_path / "schema.yaml"
    path.write_text(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: integer, nullable: false}\n"
        "      n: {type: integer, nullable: false}\n    primary_key: [id]\n"
    )
    plan = cli(["plan", "--fail-on", "may_fail"], path, db, scratch_dsn, tmp_path)
    assert plan.code == 3
    result = cli(
        ["apply", "--yes", "--allow", "may_fail,destructive,rewrite,blocking,long_running"],
        path,
        db,
        scratch_dsn,
        tmp_path,
    )
    assert result.code == 3
    assert "may_fail" in result.stderr and "fix the rows" in result.stderr
    assert query(
        db,
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_name = 't' AND column_name = 'n'",
    ) == [("YES",)]
