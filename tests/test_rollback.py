"""`apply --revision N`: apply the file recorded by history run N again (a rollback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import run_against as cli
from tests.conftest import query, run_sql

# CLI and file behaviour: the same on every major.
pytestmark = pytest.mark.one_major

V1 = """\
version: 1
tables:
  t:
    columns:
      id:   {type: integer, nullable: false}
      note: {type: text}
    primary_key: [id]
"""
V2 = """\
version: 1
tables:
  t:
    columns:
      id:    {type: integer, nullable: false}
      note:  {type: text}
      score: {type: integer, nullable: false, default: 0}
    primary_key: [id]
    indexes:
      t_score: {columns: [score]}
"""


def run_ids(db: str) -> list[int]:
    return [int(r[0]) for r in query(db, "SELECT id FROM mmschema.history ORDER BY id")]


def applied_v1_then_v2(db: str, scratch: str, tmp_path: Path) -> int:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
    path = tmp_path / "schema.yaml"
    path.write_text(V1)
    first = cli(["apply", "--yes", "-f", str(path)], db, scratch, tmp_path)
    assert first.code == 0, first.stdout + first.stderr
    v1_run = run_ids(db)[-1]
    path.write_text(V2)
    second = cli(["apply", "--yes", "-f", str(path)], db, scratch, tmp_path)
    assert second.code == 0, second.stdout + second.stderr
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_score'") == [(1,)]
    return v1_run


def test_apply_revision_rolls_back_to_the_first_file(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    v1_run = applied_v1_then_v2(db, scratch_dsn, tmp_path)
    rolled = cli(
        ["apply", "--revision", str(v1_run), "--yes", "--allow", "destructive"],
        db,
        scratch_dsn,
        tmp_path,
    )
    assert rolled.code == 0, rolled.stdout + rolled.stderr
    assert f"run {v1_run}" in rolled.stderr

    (tmp_path / "v1.yaml").write_text(V1)
    plan = cli(
        ["plan", "-f", str(tmp_path / "v1.yaml"), "--format", "json", "--detailed-exitcode"],
        db,
        scratch_dsn,
        tmp_path,
    )
    assert plan.code == 0, plan.stdout + plan.stderr
    data = json.loads(plan.stdout)
    assert data["changes"] == []
    columns = query(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 't'")
    assert sorted(c[0] for c in columns) == ["id", "note"]
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_score'") == [(0,)]
    assert query(db, "SELECT count(*) FROM t") == [(2,)]
    # The rollback is itself a run, recorded with the first file's text.
    last = query(db, "SELECT file_text, outcome FROM mmschema.history ORDER BY id DESC LIMIT 1")
    assert last == [(V1, "succeeded")]


def test_rollback_dropping_a_column_needs_allow_destructive(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    v1_run = applied_v1_then_v2(db, scratch_dsn, tmp_path)
    refused = cli(["apply", "--revision", str(v1_run), "--yes"], db, scratch_dsn, tmp_path)
    assert refused.code == 3, refused.stdout + refused.stderr
    assert "destructive" in refused.stderr
    columns = query(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 't'")
    assert "score" in {c[0] for c in columns}


def test_unknown_revision_is_an_error(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    applied_v1_then_v2(db, scratch_dsn, tmp_path)
    result = cli(["apply", "--revision", "999", "--yes"], db, scratch_dsn, tmp_path)
    assert result.code == 1
    assert "no run 999 in the history" in result.stderr


def test_revision_without_history_is_an_error(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    result = cli(["apply", "--revision", "1", "--yes"], db, scratch_dsn, tmp_path)
    assert result.code == 1
    assert "no run 1 in the history" in result.stderr


def test_history_show_prints_the_file(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    v1_run = applied_v1_then_v2(db, scratch_dsn, tmp_path)
    shown = cli(["history", "--show", str(v1_run)], db, scratch_dsn, tmp_path)
    assert shown.code == 0, shown.stderr
    assert V1.strip() in shown.stdout
