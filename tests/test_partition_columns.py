"""A partition's own NOT NULL and DEFAULT on its parent's columns: declared under the
partition's `columns`, written by dump, created, changed and kept."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell

PARENT = "CREATE TABLE p (k text NOT NULL, a integer, b text DEFAULT 'p') PARTITION BY LIST (k);"
OWN = (
    "SELECT c.relname, a.attname, a.attnotnull, pg_get_expr(d.adbin, d.adrelid)"
    " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
    " WHERE c.relname IN ('p1', 'p2') AND a.attname IN ('a', 'b') ORDER BY 1, 2"
)


def test_partition_columns_round_trip_through_dump_and_apply(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    """B's partitions have their own NOT NULL and DEFAULT; its dump applied to A (which has
    none, and lacks p2) gives A the same."""
    run_sql(
        db,
        PARENT + "CREATE TABLE p1 PARTITION OF p (a NOT NULL, b DEFAULT 'one')"
        " FOR VALUES IN ('x');"
        "CREATE TABLE p2 PARTITION OF p (b DEFAULT NULL) FOR VALUES IN ('y');",
    )
    wanted = query(db, OWN)
    dumped = shell.run("dump", "-d", db, "--dev-database", scratch_dsn)
    assert dumped.code == 0, dumped.output
    assert "warning" not in dumped.stderr, dumped.stderr
    run_sql(db, "DROP TABLE p;" + PARENT + "CREATE TABLE p1 PARTITION OF p FOR VALUES IN ('x');")
    shell.write("schema.yaml", dumped.stdout)
    common = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", *common, "--yes")
    assert applied.code == 0, applied.output
    assert query(db, OWN) == wanted
    again = shell.run("plan", *common, "--detailed-exitcode")
    assert again.code == 0, again.output

FILE = (
    "version: 1\ntables:\n  p:\n    columns: {k: {type: text}}\n    partition_by: LIST (k)\n"
    "  p1:\n    partition_of: {table: p, bound: \"FOR VALUES IN ('x')\"}\n"
    "    columns:\n      nope: {nullable: false}\n"
)


@pytest.mark.one_major
def test_a_partition_column_its_parent_lacks_is_refused(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    shell.write("schema.yaml", FILE)
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:9:" in outcome.output and "no column 'nope'" in outcome.output
    shell.write("typed.yaml", FILE.replace("nope: {nullable: false}", "k: {type: text}"))
    typed = shell.run("validate", "-f", "typed.yaml")
    assert typed.code == 1 and "typed.yaml:9:" in typed.output, typed.output
