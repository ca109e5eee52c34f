"""A foreign key to a partitioned table, added NOT VALID and validated on an existing table,
leaves no constraint NOT VALID: PostgreSQL 14 to 17 keep the ones it derives per referenced
partition NOT VALID after the key's VALIDATE, so they are validated too."""

from __future__ import annotations

from tests.conftest import query, run_sql
from tests.outside import Shell

FILE = """version: 1
tables:
  p:
    columns: {id: {type: integer, nullable: false}}
    primary_key: [id]
    partition_by: RANGE (id)
  p1: {partition_of: {table: p, bound: "FOR VALUES FROM (0) TO (100)"}}
  p2: {partition_of: {table: p, bound: "FOR VALUES FROM (100) TO (200)"}}
  child:
    columns: {x: {type: integer}}
    foreign_keys:
      child_x_fkey: {columns: [x], references: {table: p, columns: [id]}}
"""


def test_every_part_of_a_key_to_a_partitioned_table_is_valid(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        "CREATE TABLE p (id int PRIMARY KEY) PARTITION BY RANGE (id);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);"
        "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200);"
        "CREATE TABLE child (x int); INSERT INTO p VALUES (1), (150);"
        "INSERT INTO child VALUES (1), (150), (NULL);",
    )
    shell.write("schema.yaml", FILE)
    common = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", *common, "--yes", "--allow", "blocking")
    assert applied.code == 0, applied.output
    assert query(
        db,
        "SELECT count(*), count(*) FILTER (WHERE NOT convalidated) FROM pg_constraint"
        " WHERE conrelid = 'child'::regclass AND contype = 'f'",
    )[0][1] == 0
    again = shell.run("plan", *common, "--detailed-exitcode")
    assert again.code == 0, again.output
