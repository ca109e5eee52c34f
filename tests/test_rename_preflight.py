"""A column renamed in the same plan keeps its data pre-flight, and a failed SET NOT NULL
leaves no constraint behind (the installed command)."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell

pytestmark = pytest.mark.one_major

RENAMED_NOT_NULL = """version: 1
tables:
  t:
    columns:
      id: {type: integer}
      ext_ref: {type: integer, renamed_from: ref, nullable: false}
    primary_key: [id]
"""

RENAMED_UNIQUE = """version: 1
tables:
  t:
    columns:
      id: {type: integer}
      ext_ref: {type: integer, renamed_from: ref}
    primary_key: [id]
    indexes:
      t_ext_ref_key: {columns: [ext_ref], unique: true}
"""


def make_table(db: str) -> None:
    run_sql(
        db,
        "CREATE TABLE t (id integer PRIMARY KEY, ref integer);"
        " INSERT INTO t VALUES (1, NULL), (2, 7), (3, 7);",
    )


def test_a_renamed_column_set_not_null_over_nulls_is_refused_before_anything_runs(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    make_table(db)
    shell.write("schema.yaml", RENAMED_NOT_NULL)
    target = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *target)
    assert planned.code == 0, planned.output
    assert "1 rows have ref NULL; SET NOT NULL fails" in planned.stdout
    applied = shell.run("apply", "--yes", *target)
    assert applied.code == 3, applied.output
    assert "Traceback" not in applied.output
    columns = query(db, "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass"
                        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
    assert columns == [("id",), ("ref",)]  # refused before the rename ran


def test_a_renamed_column_under_a_new_unique_index_counts_its_duplicates(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    make_table(db)
    shell.write("schema.yaml", RENAMED_UNIQUE)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "1 duplicate groups under unique index t_ext_ref_key" in planned.stdout


def test_a_check_over_a_renamed_column_that_cannot_be_counted_is_may_fail(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    make_table(db)
    shell.write("schema.yaml", RENAMED_UNIQUE.replace(
        "    indexes:\n      t_ext_ref_key: {columns: [ext_ref], unique: true}\n",
        "    checks:\n      t_ext_ref_positive: ext_ref > 0\n"))
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "could not count the rows this change rejects" in planned.stdout


def test_a_failed_set_not_null_leaves_no_check_refusing_new_nulls(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, ref integer); INSERT INTO t VALUES (1, 7)")
    shell.write("schema.yaml", RENAMED_NOT_NULL.replace("ext_ref", "ref").replace(
        ", renamed_from: ref", ""))
    with psycopg.connect(db) as writer:
        # A NULL the pre-flight cannot see yet: committed while apply waits for its lock.
        writer.execute("INSERT INTO t VALUES (2, NULL)")
        apply = shell.start("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
        deadline = time.monotonic() + 60
        while not query(db, "SELECT 1 FROM pg_locks WHERE NOT granted"):
            assert time.monotonic() < deadline and apply.poll() is None, apply.communicate()
            time.sleep(0.05)
        writer.commit()
    stdout, stderr = apply.communicate(timeout=120)
    assert apply.returncode == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr
    checks = query(db, "SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass"
                       " AND contype = 'c'")
    assert checks == []
    run_sql(db, "INSERT INTO t VALUES (3, NULL)")  # the column is still nullable, and says so
