"""Pre-flights that count, read-only, the rows a change would fail on: a new partition's bound
over rows of the DEFAULT partition, and type conversions on every major (14 and 15 have no
pg_input_is_valid: the conversion itself is tried, row by row once it fails)."""

from __future__ import annotations

import re

from tests.conftest import query, run_sql
from tests.outside import Shell

PARTITIONS = """version: 1
tables:
  f:
    columns: {id: {type: integer}, k: {type: text}}
    partition_by: LIST (k)
  f_def: {partition_of: {table: f, bound: DEFAULT}}
  f_a: {partition_of: {table: f, bound: "FOR VALUES IN ('a', NULL)"}}
  r:
    columns: {id: {type: integer}, at: {type: date}}
    partition_by: RANGE (at)
  r_def: {partition_of: {table: r, bound: DEFAULT}}
  r_2026: {partition_of: {table: r, bound: "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"}}
"""

TYPES = """version: 1
tables:
  t:
    columns:
      id: {type: integer}
      e: {type: timestamptz}
      s: {type: integer}
      n: {type: integer}
      ok: {type: integer}
"""


def test_a_new_bound_over_rows_of_the_default_partition_is_counted(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        "CREATE TABLE f (id int, k text) PARTITION BY LIST (k);"
        "CREATE TABLE f_def PARTITION OF f DEFAULT;"
        "INSERT INTO f VALUES (1, 'a'), (2, 'b'), (3, NULL);"
        "CREATE TABLE r (id int, at date) PARTITION BY RANGE (at);"
        "CREATE TABLE r_def PARTITION OF r DEFAULT;"
        "INSERT INTO r VALUES (1, '2026-03-01'), (2, '2025-01-01'), (3, NULL);",
    )
    shell.write("schema.yaml", PARTITIONS)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "may_fail: 2 rows of the DEFAULT partition public.f_def" in planned.stdout
    assert "may_fail: 1 rows of the DEFAULT partition public.r_def" in planned.stdout
    assert query(db, "SELECT count(*) FROM f_def") == [(3,)]  # read only


def test_conversions_that_fail_are_counted_on_every_major(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        "CREATE TABLE t (id int, e bigint, s text, n bigint, ok bigint);"
        "INSERT INTO t VALUES (1, 1700000000, '12', 5, 1), (2, 5, 'x1', 3000000000, 2),"
        " (3, 20260101, ' 7 ', 1, 3);",
    )
    shell.write("schema.yaml", TYPES)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    lines = [line.strip() for line in planned.stdout.splitlines() if "hazard may_fail" in line]
    assert len(lines) == 3, planned.stdout  # ok: bigint to integer, every value fits
    for line, (count, column) in zip(lines, [(2, "e"), (1, "s"), (1, "n")], strict=True):
        # e: epochs, not dates; s: 'x1'; n: 3000000000
        pattern = rf"hazard may_fail: {count} rows of (public\.t fail the conversion of )?{column} "
        assert re.match(pattern, line), lines
