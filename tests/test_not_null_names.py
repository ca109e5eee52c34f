"""PostgreSQL 18's NOT NULL constraint names follow renamed tables and columns and detached
partitions, as a table built fresh under the new names would have them; names given by hand
are kept."""

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


DETACHED = """version: 1
tables:
  m:
    columns:
      k: {type: text, nullable: false}
      v: {type: integer, nullable: false}
    partition_by: LIST (k)
  m1:
    columns:
      k: {type: text, nullable: false}
      v: {type: integer, nullable: false}
  m2:
    partition_of: {table: m, bound: "FOR VALUES IN ('b')"}
"""


def test_a_detached_partition_gets_the_not_null_names_of_a_table_of_its_own(
    db: str, scratch_dsn: str, shell: Shell, pg_server: LocalServer
) -> None:
    """A partition carries its parent's names (m_k_not_null) and keeps them once detached;
    with --prune a partition the file declares as a table of its own is detached, and
    a table created alone has its own names (m1_k_not_null), as pg_dump then shows (migra's
    partitioning pair on PostgreSQL 18)."""
    run_sql(
        db,
        "CREATE TABLE m (k text NOT NULL, v int NOT NULL) PARTITION BY LIST (k);"
        "CREATE TABLE m1 PARTITION OF m FOR VALUES IN ('a');"
        "CREATE TABLE m2 PARTITION OF m FOR VALUES IN ('b');",
    )
    shell.write("schema.yaml", DETACHED)
    common = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", *common, "--yes", "--prune")
    assert applied.code == 0, applied.output
    again = shell.run("plan", *common, "--detailed-exitcode", "--prune")
    assert again.code == 0, again.output
    expected = [
        ("m", "m_k_not_null"),
        ("m", "m_v_not_null"),
        ("m1", "m1_k_not_null"),
        ("m1", "m1_v_not_null"),
        ("m2", "m_k_not_null"),
        ("m2", "m_v_not_null"),
    ]
    assert query(db, NAMES) == (expected if pg_server.major >= 18 else []), applied.output
