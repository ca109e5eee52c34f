"""`apply --revision N` run as a user does: it undoes what later runs changed, nothing else."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_sql
from tests.outside import Outcome, Shell
from tests.test_rollback import V1

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
    checks:
      score_positive: "score >= 0"
  audit:
    columns:
      id: {type: integer}
"""


def columns(db: str, table: str) -> set[str]:
    rows = query(
        db, "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
    )
    return {str(r[0]) for r in rows}


def applied_v1_then_v2(shell: Shell, db: str, scratch: str) -> None:
    # `legacy` was made by hand: no run's file ever named it.
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, legacy text); INSERT INTO t VALUES (1)")
    for text in (V1, V2):
        shell.write("schema.yaml", text)
        done = shell.run(
            "apply", "-d", db, "--dev-database", scratch, "--yes", "--allow", "blocking"
        )
        assert done.code == 0, done.output
    assert query(db, "SELECT id FROM mmschema.history ORDER BY id") == [(1,), (2,)]


def roll_back_to_run_1(shell: Shell, db: str, scratch: str, *more: str) -> Outcome:
    """`apply --revision 1` with destructive changes allowed."""
    return shell.run(
        "apply", "--revision", "1", *more, "-d", db, "--dev-database", scratch,
        "--yes", "--allow", "destructive",
    )


@pytest.mark.one_major
def test_revision_undoes_what_later_runs_changed_and_nothing_else(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    applied_v1_then_v2(shell, db, scratch_dsn)
    rolled = roll_back_to_run_1(shell, db, scratch_dsn)
    assert rolled.code == 0, rolled.output
    assert columns(db, "t") == {"id", "note", "legacy"}  # score undone, legacy kept
    assert columns(db, "audit") == set()  # the table run 2 added is gone
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_score'") == [(0,)]
    assert "--prune" in rolled.stderr and "left alone" in rolled.stderr
    assert "column public.t.legacy" in rolled.stdout  # shown as unmanaged, not dropped
    assert query(db, "SELECT count(*) FROM pg_constraint WHERE conname = 'score_positive'") == [
        (0,)
    ]
    assert "check public.t.score_positive" not in rolled.stdout  # dropped, not unmanaged
    assert "Traceback" not in rolled.output


@pytest.mark.one_major
def test_revision_with_prune_drops_what_the_file_does_not_name(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    applied_v1_then_v2(shell, db, scratch_dsn)
    rolled = roll_back_to_run_1(shell, db, scratch_dsn, "--prune")
    assert rolled.code == 0, rolled.output
    assert columns(db, "t") == {"id", "note"}
    assert "with --prune" in rolled.stderr
