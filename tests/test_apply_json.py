"""apply --format json: one JSON document on stdout with each change's status and the recap."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.clirunner import run_against as mm
from tests.conftest import query, run_sql

# CLI and file behaviour: the same on every major.
pytestmark = pytest.mark.one_major

SCHEMA = """\
version: 1
tables:
  accounts:
    columns:
      id: {type: bigint, nullable: false}
      email: {type: text}
    primary_key: [id]
    indexes:
      idx_accounts_email: {columns: [email]}
      idx_accounts_email_unique: {columns: [email], unique: true}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    return str(path)


def test_apply_json_reports_each_change_and_the_recap(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    schema = write(tmp_path, SCHEMA)
    result = mm(["apply", "-f", schema, "--yes", "--format", "json"], db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)  # stdout holds the document and nothing else
    assert data["exit_code"] == 0 and data["converged"] is True and data["status"] == "converged"
    assert [(c["status"], c["kind"], c["object"]) for c in data["changes"]] == [
        ("changed", "create_table", "public.accounts"),
        ("changed", "create_index", "public.accounts.idx_accounts_email"),
        ("changed", "create_index", "public.accounts.idx_accounts_email_unique"),
    ]
    assert all(isinstance(c["seconds"], float) and c["error"] is None for c in data["changes"])
    assert data["recap"] == {"ok": 3, "changed": 3, "failed": 0, "skipped": 0}
    assert "RECAP" in result.stderr  # the human lines went to stderr
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE tablename = 'accounts'") == [(3,)]

    again = mm(["apply", "-f", schema, "--yes", "--format", "json"], db, scratch_dsn, tmp_path)
    assert again.code == 0
    data = json.loads(again.stdout)
    assert data["changes"] == [] and data["recap"]["ok"] == 0


def test_apply_json_failed_and_refused(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, "CREATE TABLE accounts (id bigint PRIMARY KEY, email text)")
    run_sql(db, "INSERT INTO accounts VALUES (1, 'a@x'), (2, 'a@x')")
    schema = write(tmp_path, SCHEMA)
    refused = mm(["apply", "-f", schema, "--yes", "--format", "json"], db, scratch_dsn, tmp_path)
    assert refused.code == 3
    data = json.loads(refused.stdout)
    assert data["status"] == "refused" and data["exit_code"] == 3
    statuses = {c["object"]: c["status"] for c in data["changes"]}
    assert statuses["public.accounts.idx_accounts_email_unique"] == "skipped"
    unique = next(c for c in data["changes"] if c["object"].endswith("_unique"))
    assert [h["kind"] for h in unique["hazards"]] == ["may_fail"]
    assert data["recap"]["skipped"] == len(data["changes"])


def test_apply_json_reports_a_failed_change(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, "CREATE TABLE accounts (id bigint PRIMARY KEY)")
    schema = write(tmp_path, SCHEMA)
    with psycopg.connect(db) as blocker:  # holds ACCESS SHARE: ALTER TABLE cannot get its lock
        blocker.execute("SELECT * FROM accounts")
        result = mm(
            [
                *("apply", "-f", schema, "--yes", "--format", "json"),
                "--retries",
                "0",
                "--lock-timeout",
                "100ms",
            ],
            db,
            scratch_dsn,
            tmp_path,
        )
    assert result.code == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "error" and data["converged"] is False
    failed = [c for c in data["changes"] if c["status"] == "failed"]
    assert failed and failed[0]["kind"] == "add_column" and "lock" in failed[0]["error"]
    assert data["recap"]["failed"] == 1
