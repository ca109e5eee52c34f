"""`renamed_from` on a primary key, unique, check or foreign key: RENAME CONSTRAINT, a
catalog update, never a drop and an add (no scan, no index build)."""

from __future__ import annotations

import re

from tests.conftest import query, run_sql
from tests.outside import Shell

FILE = """version: 1
tables:
  parent:
    columns: {id: {type: integer}, code: {type: text}}
    primary_key: {name: parent_key, columns: [id], renamed_from: parent_pkey}
    unique: {parent_code_uq: {columns: [code], renamed_from: parent_code_key}}
    checks: {code_short: {expr: "length(code) < 10", renamed_from: parent_code_check}}
  child:
    columns: {id: {type: integer}, parent_id: {type: integer}}
    foreign_keys:
      child_to_parent:
        columns: [parent_id]
        references: {table: parent, columns: [id]}
        renamed_from: child_parent_id_fkey
"""


def test_renamed_constraints_are_catalog_updates(db: str, scratch_dsn: str, shell: Shell) -> None:
    run_sql(
        db,
        "CREATE TABLE parent (id int PRIMARY KEY, code text UNIQUE CHECK (length(code) < 10));"
        "CREATE TABLE child (id int, parent_id int REFERENCES parent (id));",
    )
    before = query(db, "SELECT oid FROM pg_class WHERE relname = 'parent_code_key'")
    shell.write("schema.yaml", FILE)
    common = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", *common, "--yes")
    assert applied.code == 0, applied.output
    kinds = re.findall(r"^ +\d+\. (\S+)", applied.stdout, re.MULTILINE)
    assert kinds == ["rename_constraint"] * 4, applied.stdout
    names = (
        "SELECT conname FROM pg_constraint WHERE contype <> 'n'"
        " AND conrelid IN ('parent'::regclass, 'child'::regclass) ORDER BY 1"
    )
    assert [n for (n,) in query(db, names)] == [
        "child_to_parent",
        "code_short",
        "parent_code_uq",
        "parent_key",
    ]
    # The unique constraint's index is the same relation, renamed with it.
    assert query(db, "SELECT oid FROM pg_class WHERE relname = 'parent_code_uq'") == before
    again = shell.run("plan", *common, "--detailed-exitcode")
    assert again.code == 0, again.output
