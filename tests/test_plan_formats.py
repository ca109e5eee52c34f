"""Plan formats: a psql script that converges, and Markdown for a pull request."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mmschema.localserver import LocalServer
from tests.clirunner import Result, run_cli
from tests.conftest import run_sql

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "market-maker"


def cli(args: list[str], db: str, scratch: str, cwd: Path) -> Result:
    schema = str(EXAMPLE / "schema.yaml")
    return run_cli([*args, "-f", schema, "-d", db, "--dev-database", scratch], cwd)


def psql_for(server: LocalServer) -> str:
    own = server.bin_dir / "psql"
    found = str(own) if own.is_file() else shutil.which("psql")
    if found is None:
        pytest.skip("no psql")
    return found


def test_sql_script_runs_with_psql_and_converges(
    db: str, scratch_dsn: str, pg_server: LocalServer, tmp_path: Path
) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    result = cli(["plan", "--format", "sql"], db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    script = result.stdout
    assert "SET lock_timeout = '3000ms';" in script
    assert "-- create_index public.fills.idx_fills_unique_dedup\n" in script
    assert "BEGIN;\nSET statement_timeout" in script or "BEGIN;\nALTER TABLE" in script
    concurrent = next(line for line in script.splitlines() if "CONCURRENTLY" in line)
    lines = script.splitlines()
    assert lines[lines.index(concurrent) - 1] != "BEGIN;"
    path = tmp_path / "plan.sql"
    path.write_text(script)
    run = subprocess.run(
        [psql_for(pg_server), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    again = cli(["plan", "--format", "json"], db, scratch_dsn, tmp_path)
    assert json.loads(again.stdout)["changes"] == []
    empty = cli(["plan", "--format", "sql"], db, scratch_dsn, tmp_path)
    assert "-- no changes" in empty.stdout


def test_sql_script_lists_hazards_above_each_change(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    run_sql(
        db,
        'INSERT INTO fills (sessionid, orderid, symbol, "timestamp", price, size, amount) '
        'SELECT sessionid, orderid, symbol, "timestamp", price, size, amount FROM fills '
        "WHERE id = 2",
    )
    script = cli(["plan", "--format", "sql"], db, scratch_dsn, tmp_path).stdout
    assert "-- create_index public.fills.idx_fills_unique_dedup [may_fail]" in script
    assert "--   may_fail: 1 duplicate groups" in script


def test_markdown_has_summary_table_and_sql(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    result = cli(["plan", "--format", "markdown"], db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.startswith("### mmschema plan for ")
    assert "**Plan: " in text and " changes" in text
    assert "| # | Change | Object | Lock | Hazards |" in text
    assert (
        "| `create_index` | `public.fills.idx_fills_unique_dedup` | SHARE UPDATE EXCLUSIVE" in text
    )
    assert "<details><summary>SQL</summary>" in text and "```sql" in text
    assert text.rstrip().endswith("</details>")


def test_drift_accepts_the_new_formats(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    result = cli(["drift", "--format", "markdown"], db, scratch_dsn, tmp_path)
    assert result.code == 2
    assert "| # | Change |" in result.stdout
