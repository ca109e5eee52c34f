"""COMMENT ON CONSTRAINT: dump writes it, the dumped file plans nothing, import keeps it."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import run_sql
from tests.outside import Shell, plan_code

TABLE = """
CREATE TABLE test (
    id integer,
    CONSTRAINT test_pkey PRIMARY KEY (id),
    CONSTRAINT "my.constraint" CHECK (id > 0),
    CONSTRAINT plain CHECK (id < 100)
);
COMMENT ON CONSTRAINT test_pkey ON test IS 'Primary key constraint';
COMMENT ON CONSTRAINT "my.constraint" ON test IS 'Constraint with dot in name';
"""


@pytest.mark.one_major
def test_dump_writes_constraint_comments_and_its_file_plans_nothing(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, TABLE)
    dumped = shell.run("dump", "-d", db, "-o", "schema.yaml")
    assert dumped.code == 0, dumped.output
    table = yaml.safe_load(shell.path("schema.yaml").read_text())["tables"]["test"]
    assert table["primary_key"]["comment"] == "Primary key constraint"
    assert table["checks"]["my.constraint"] == {
        "expr": "(id > 0)",
        "comment": "Constraint with dot in name",
    }
    assert table["checks"]["plain"] == "(id < 100)"
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_import_turns_comment_on_constraint_into_the_entry(
    shell: Shell, scratch_dsn: str
) -> None:
    shell.write("m/001.sql", TABLE)
    imported = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert imported.code == 0, imported.output
    assert "left out" not in imported.output
    table = yaml.safe_load(shell.path("schema.yaml").read_text())["tables"]["test"]
    assert table["primary_key"]["comment"] == "Primary key constraint"
    assert table["checks"]["my.constraint"]["comment"] == "Constraint with dot in name"


@pytest.mark.one_major
def test_a_comment_on_a_constraint_of_a_new_table_is_set(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write(
        "schema.yaml",
        """version: 1
tables:
  test:
    columns: {id: {type: integer, nullable: false}}
    primary_key: {columns: [id], comment: the key}
    checks:
      my.constraint: {expr: id > 0, comment: positive}
""",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert 'COMMENT ON CONSTRAINT "my.constraint" ON "public"."test"' in applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
