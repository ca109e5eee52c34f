"""mmschema.history: each apply run and its statements are recorded; `history` lists them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql

# CLI and file behaviour: the same on every major.
pytestmark = pytest.mark.one_major

SCHEMA = """\
version: 1
tables:
  t:
    columns:
      id:   {type: integer, nullable: false}
      note: {type: text}
    primary_key: [id]
"""


def write_schema(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    return path


def cli(command: str, path: Path, db: str, scratch: str, *extra: str) -> Result:
    args = [command, "-f", str(path), "-d", db]
    if command in ("plan", "apply"):
        args += ["--dev-database", scratch]
    if command == "apply":
        args.append("--yes")
    return run_cli([*args, *extra], path.parent)


def test_history_before_any_apply_says_no_runs_yet(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    path = write_schema(tmp_path, SCHEMA)
    result = cli("history", path, db, scratch_dsn)
    assert result.code == 0, result.stderr
    assert "no runs yet" in result.stdout


def test_apply_records_run_and_statements(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY)")
    path = write_schema(tmp_path, SCHEMA)

    applied = cli("apply", path, db, scratch_dsn)
    assert applied.code == 0, applied.stdout + applied.stderr

    runs = query(
        db,
        "SELECT id, outcome, file_checksum, file_text, finished_at IS NOT NULL, db_user"
        " FROM mmschema.history",
    )
    assert len(runs) == 1
    run_id, outcome, checksum, file_text, finished, user = runs[0]
    assert outcome == "succeeded" and finished
    assert checksum == hashlib.sha256(file_text.encode()).hexdigest()
    assert "note" in file_text
    assert user == query(db, "SELECT current_user")[0][0]
    statements = query(
        db,
        "SELECT change_kind, sql, outcome, duration_ms FROM mmschema.history_statements"
        " WHERE run_id = %s ORDER BY position",
        [run_id],
    )
    assert [(s[0], s[2]) for s in statements] == [("add_column", "succeeded")]
    assert "ADD COLUMN" in statements[0][1] and statements[0][3] is not None

    # The history tables are never managed nor reported as unmanaged; nothing is left to do.
    again = cli("plan", path, db, scratch_dsn, "--format", "json")
    assert again.code == 0
    planned = json.loads(again.stdout)
    assert planned["changes"] == [] and planned["unmanaged"] == []
    noop = cli("apply", path, db, scratch_dsn)
    assert noop.code == 0 and "already matches" in noop.stdout
    assert query(db, "SELECT count(*) FROM mmschema.history")[0][0] == 1

    listed = cli("history", path, db, scratch_dsn)
    assert listed.code == 0, listed.stderr
    line = [row for row in listed.stdout.splitlines() if row.strip().startswith(str(run_id))]
    assert line and "succeeded" in line[0] and checksum[:12] in line[0]

    shown = cli("history", path, db, scratch_dsn, "--show", str(run_id))
    assert shown.code == 0, shown.stderr
    assert "ADD COLUMN" in shown.stdout
    assert "note:" in shown.stdout  # the file it applied
    assert checksum in shown.stdout

    missing = cli("history", path, db, scratch_dsn, "--show", "999")
    assert missing.code == 1 and "no run 999" in missing.stderr


def test_failed_run_is_recorded_as_failed(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, v integer); INSERT INTO t VALUES (1, 0)")
    path = write_schema(
        tmp_path,
        """\
version: 1
tables:
  t:
    columns:
      id: {type: integer, nullable: false}
      v:  {type: integer}
      w:  {type: integer}
    primary_key: [id]
    indexes:
      idx_t_inverse: {columns: [{expr: "(1 / v)"}]}
""",
    )
    result = cli("apply", path, db, scratch_dsn)
    assert result.code == 1
    ((outcome, message),) = query(db, "SELECT outcome, message FROM mmschema.history")
    assert outcome == "failed" and message == "exit status 1"
    rows = query(
        db, "SELECT change_kind, outcome, error FROM mmschema.history_statements ORDER BY position"
    )
    assert ("add_column", "succeeded", None) in rows
    failed = [r for r in rows if r[1] == "failed"]
    assert failed and "division by zero" in failed[0][2]
