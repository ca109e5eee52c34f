"""PostgreSQL 18's NOT NULL constraint names follow renamed tables and columns, as a table
built fresh under the new names would have them; names given by hand are kept."""

from __future__ import annotations

from mmschema.localserver import LocalServer
from tests.conftest import query, run_sql
from tests.outside import Shell

NAMES = (
    "SELECT conrelid::regclass::text, conname FROM pg_constraint"
    " WHERE contype = 'n' AND connamespace = 'public'::regnamespace ORDER BY 1, 2"
)
FILE = """version: 1
tables:
  t2:
    renamed_from: t1
    columns:
      id: {type: integer, nullable: false}
      aa: {type: text, nullable: false, renamed_from: a}
      b: {type: integer, nullable: false}
      c: {type: text}
    primary_key: [id]
  q:
    renamed_from: p
    columns:
      k: {type: text, nullable: false}
    partition_by: LIST (k)
  q1:
    renamed_from: p1
    partition_of: {table: q, bound: "FOR VALUES IN ('a')"}
"""


def test_not_null_names_follow_renamed_tables_and_columns(
    db: str, scratch_dsn: str, shell: Shell, pg_server: LocalServer
) -> None:
    run_sql(
        db,
        "CREATE TABLE t1 (id int PRIMARY KEY, a text NOT NULL,"
        " b int CONSTRAINT kept_nn NOT NULL, c text NOT NULL);"
        "CREATE TABLE p (k text NOT NULL) PARTITION BY LIST (k);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES IN ('a');",
    )
    shell.write("schema.yaml", FILE)
    common = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", *common, "--yes")
    assert applied.code == 0, applied.output
    again = shell.run("plan", *common, "--detailed-exitcode")
    assert again.code == 0, again.output
    expected = [
        ("q", "q_k_not_null"),
        ("q1", "q_k_not_null"),  # a partition's comes from its parent's
        ("t2", "kept_nn"),
        ("t2", "t2_aa_not_null"),
        ("t2", "t2_id_not_null"),
    ]
    assert query(db, NAMES) == (expected if pg_server.major >= 18 else [])
    if pg_server.major >= 18:
        assert 'RENAME CONSTRAINT "t1_a_not_null" TO "t2_aa_not_null"' in applied.output
