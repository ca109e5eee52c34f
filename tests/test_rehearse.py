"""`--rehearse`: the plan runs first on a scratch copy; locks and rewrites are measured."""

from __future__ import annotations

from pathlib import Path

from tests.clirunner import run_against as cli
from tests.conftest import query, run_sql

WANTED = """\
version: 1
tables:
  t:
    columns:
      id:    {type: bigint, nullable: false}
      note:  {type: text}
      score: {type: integer}
    primary_key: [id]
    indexes:
      t_note: {columns: [note]}
"""


def prepared(db: str, tmp_path: Path) -> Path:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, note text); INSERT INTO t VALUES (1, 'a')")
    path = tmp_path / "schema.yaml"
    path.write_text(WANTED)
    return path


def test_plan_rehearse_reports_measured_locks_and_rewrites(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    path = prepared(db, tmp_path)
    result = cli(
        ["plan", "-f", str(path), "--rehearse", "--format", "text"], db, scratch_dsn, tmp_path
    )
    assert result.code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Rehearsal on a copy of the managed tables" in out
    assert "measured ACCESS EXCLUSIVE on public.t; no rewrite" in out  # add column
    assert "measured ACCESS EXCLUSIVE on public.t; rewrote public.t" in out  # integer -> bigint
    # CREATE INDEX CONCURRENTLY, seen from a second session while it waits for a snapshot
    assert "predicted SHARE UPDATE EXCLUSIVE; measured SHARE UPDATE EXCLUSIVE on public.t" in out
    # The target was not touched, and no temporary database was left behind.
    assert query(
        db, "SELECT data_type FROM information_schema.columns WHERE column_name = 'id'"
    ) == [("integer",)]
    left = query(scratch_dsn, "SELECT 1 FROM pg_database WHERE datname LIKE 'mmschema_import_%'")
    assert left == []


def test_apply_rehearse_then_applies(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    path = prepared(db, tmp_path)
    result = cli(
        ["apply", "-f", str(path), "--rehearse", "--yes", "--allow", "rewrite,blocking"],
        db,
        scratch_dsn,
        tmp_path,
    )
    assert result.code == 0, result.stdout + result.stderr
    assert "Rehearsal on a copy" in result.stdout
    again = cli(["plan", "-f", str(path), "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr


def test_market_maker_rehearsal_measures_the_predicted_locks(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "market-maker"
    run_sql(db, (example / "before.sql").read_text())
    result = cli(
        ["plan", "-f", str(example / "schema.yaml"), "--rehearse"], db, scratch_dsn, tmp_path
    )
    assert result.code == 0, result.stdout + result.stderr
    report = result.stdout.split("Rehearsal on a copy of the managed tables", 1)[1]
    lines = report.splitlines()
    measured = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("  create_index")]
    measured_columns = [
        lines[i + 1]
        for i, line in enumerate(lines)
        if line.startswith("  add_column") and "ADD COLUMN" in line
    ]
    assert len(measured) == 9
    assert all("measured SHARE UPDATE EXCLUSIVE on public." in m for m in measured)
    assert measured_columns
    assert all("measured ACCESS EXCLUSIVE on public." in m for m in measured_columns)
    assert "rewrote" not in result.stdout


def test_a_measured_rewrite_is_checked_against_the_plans_rewrite_hazard() -> None:
    """In-process, no database: the check and the report line beside each statement."""
    import io

    from rich.console import Console

    from mmschema.locks import LockLevel
    from mmschema.rehearsal import Measured, show_rehearsal, unpredicted

    def measured(predicted: bool) -> Measured:
        exclusive = LockLevel.ACCESS_EXCLUSIVE
        return Measured(
            "alter_column_type public.t.id",
            "ALTER TABLE t ...",
            exclusive,
            {"public.t": exclusive},
            ["public.t"],
            rewrite_predicted=predicted,
        )

    assert unpredicted([measured(True)]) is None
    line = unpredicted([measured(True), measured(False)])
    assert line is not None
    assert "alter_column_type public.t.id rewrote public.t" in line
    assert "no rewrite was predicted (1 statements)" in line
    out = io.StringIO()
    show_rehearsal([measured(True), measured(False)], Console(file=out, width=200))
    assert out.getvalue().count("rewrote public.t (NOT predicted)") == 1
