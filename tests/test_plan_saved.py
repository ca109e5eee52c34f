"""Saved plans: plan --out writes the JSON plan; apply PLANFILE runs it only if still current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql

# CLI and file behaviour: the same on every major.
pytestmark = pytest.mark.one_major

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "market-maker"


def cli(args: list[str], db: str, scratch: str, cwd: Path, schema: Path | None = None) -> Result:
    schema = schema or EXAMPLE / "schema.yaml"
    return run_cli([*args, "-f", str(schema), "-d", db, "--dev-database", scratch], cwd)


def save_plan(db: str, scratch: str, cwd: Path) -> Path:
    result = cli(["plan", "--out", "plan.json"], db, scratch, cwd)
    assert result.code == 0, result.stderr
    assert "plan saved to plan.json" in result.stderr
    return cwd / "plan.json"


def test_saved_plan_holds_statements_with_forms(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    saved = json.loads(save_plan(db, scratch_dsn, tmp_path).read_text())
    assert saved["fingerprint"]
    dedup = next(c for c in saved["changes"] if c["object"].endswith("idx_fills_unique_dedup"))
    assert dedup["statements"][0]["form"] == "CREATE_INDEX_CONCURRENTLY"
    assert dedup["statements"][0]["sql"] == dedup["sql"][0]


def test_fresh_saved_plan_applies_and_converges(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    save_plan(db, scratch_dsn, tmp_path)
    result = cli(["apply", "plan.json", "--yes"], db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stdout + result.stderr
    again = cli(["plan", "--format", "json"], db, scratch_dsn, tmp_path)
    assert json.loads(again.stdout)["changes"] == []


def test_stale_saved_plan_is_refused(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    save_plan(db, scratch_dsn, tmp_path)
    run_sql(db, "ALTER TABLE fills ADD COLUMN note text")
    result = cli(["apply", "plan.json", "--yes"], db, scratch_dsn, tmp_path)
    assert result.code == 3
    assert "the database changed since the plan was made" in result.stderr
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE tablename = 'fills'") == [(3,)]


def test_saved_plan_from_another_file_is_refused(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    save_plan(db, scratch_dsn, tmp_path)
    other = tmp_path / "other.yaml"
    text = (EXAMPLE / "schema.yaml").read_text()
    other.write_text(text.replace("idx_fills_symbol_timestamp:", "idx_fills_symbol_ts:"))
    result = cli(["apply", "plan.json", "--yes"], db, scratch_dsn, tmp_path, other)
    assert result.code == 3
    assert "the schema file changed since the plan was made" in result.stderr


def test_apply_of_a_missing_plan_file_is_a_usage_error(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    result = cli(["apply", "nope.json", "--yes"], db, scratch_dsn, tmp_path)
    assert result.code == 1
    assert "not a saved plan" in result.stderr
