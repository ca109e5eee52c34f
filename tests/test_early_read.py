"""A warm plan starts reading the target before it unpickles the cached file (the file's table
names are kept beside it): it plans what a cold plan of the same file and database plans."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from tests.outside import Shell

FILE = """\
version: 1
tables:
  app.orders:
    columns:
      id: {type: bigint}
      placed: {type: timestamp with time zone}
    primary_key: [id]
  app.lines:
    columns:
      id: {type: bigint}
      qty: {type: integer, nullable: false}
    primary_key: [id]
"""


@pytest.mark.one_major
def test_a_warm_plan_reads_the_target_as_it_is_now(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", FILE)
    target = ["-d", db, "--dev-database", scratch_dsn]
    applied = shell.run("apply", "--yes", *target)
    assert applied.code == 0, applied.output
    planned = shell.run("plan", "--detailed-exitcode", *target)
    assert planned.code == 0, planned.output
    files = shell.path(".mmschema/cache/files")
    assert list(files.glob("*.names.pickle")), "the plan keeps the file's table names"
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("ALTER TABLE app.orders DROP COLUMN placed")
        conn.execute("ALTER TABLE app.lines ALTER COLUMN qty DROP NOT NULL")
    warm = shell.run("plan", "--detailed-exitcode", *target)
    assert warm.code == 2, warm.output
    assert "placed" in warm.stdout and "qty" in warm.stdout
    shutil.rmtree(shell.path(".mmschema"))
    cold = shell.run("plan", "--detailed-exitcode", *target)
    assert cold.code == 2, cold.output
    assert cold.stdout == warm.stdout
