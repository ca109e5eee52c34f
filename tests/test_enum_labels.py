"""Enum labels renamed (`renamed_labels`) and, with --prune, an unused enum made exactly as
declared, through the installed command; a bad `renamed_labels` is one error at its place."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

RENAMED = """version: 1
enums:
  workflow:
    labels: [active, waiting, archived]
    renamed_labels: {waiting: pending}
tables:
  jobs:
    columns:
      id: {type: bigint, nullable: false}
      state: {type: workflow}
    primary_key: [id]
"""


def labels(db: str, name: str) -> list[str]:
    rows = query(
        db,
        "SELECT enumlabel FROM pg_enum WHERE enumtypid = %s::regtype ORDER BY enumsortorder",
        (name,),
    )
    return [row[0] for row in rows]


@pytest.mark.one_major
def test_a_renamed_label_keeps_the_rows_holding_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "CREATE TYPE workflow AS ENUM ('active', 'pending');"
        "CREATE TABLE jobs (id bigint PRIMARY KEY, state workflow);"
        "INSERT INTO jobs VALUES (1, 'pending'), (2, 'active');",
    )
    shell.write("schema.yaml", RENAMED)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "RENAME VALUE 'pending' TO 'waiting'" in planned.stdout
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert labels(db, "workflow") == ["active", "waiting", "archived"]
    assert query(db, "SELECT state::text FROM jobs ORDER BY id") == [("waiting",), ("active",)]
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_prune_remakes_an_unused_enum_but_never_one_in_use(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "CREATE TYPE workflow AS ENUM ('pending', 'active');"
        "CREATE TYPE side AS ENUM ('buy', 'sell', 'short');"
        "CREATE TABLE fills (id bigint PRIMARY KEY, side side);",
    )
    shell.write(
        "schema.yaml",
        "version: 1\nenums:\n  workflow: {labels: [active, pending]}\n"
        "  side: {labels: [buy, sell]}\ntables:\n  fills:\n    columns:\n"
        "      id: {type: bigint, nullable: false}\n      side: {type: side}\n"
        "    primary_key: [id]\n",
    )
    without = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert "rebuild_enum" not in without.stdout
    assert "unmanaged enum label order public.workflow" in without.stdout
    pruned = shell.run(
        "apply", "--yes", "--prune", "--allow", "destructive", "-d", db,
        "--dev-database", scratch_dsn,
    )
    assert pruned.code == 0, pruned.output
    assert "reorders enum type public.workflow" in pruned.stdout
    assert labels(db, "workflow") == ["active", "pending"]
    assert labels(db, "side") == ["buy", "sell", "short"]  # a column uses it


@pytest.mark.one_major
@pytest.mark.parametrize(
    ("renames", "message"),
    [
        ("{done: pending}", "renamed label 'done' is not one of the enum's labels"),
        ("{waiting: active}", "label 'waiting' renamed from 'active', which is still listed"),
    ],
)
def test_a_bad_renamed_label_is_one_error_at_its_place(
    shell: Shell, db: str, scratch_dsn: str, renames: str, message: str
) -> None:
    shell.write(
        "schema.yaml",
        f"version: 1\nenums:\n  workflow:\n    labels: [active, waiting]\n"
        f"    renamed_labels: {renames}\n",
    )
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 1
    assert "schema.yaml:5:" in outcome.stderr and message in outcome.stderr, outcome.stderr
    assert "Traceback" not in outcome.output
