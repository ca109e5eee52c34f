"""`mmschema dump` covers every schema of the database unless told otherwise."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import run_sql
from tests.outside import Shell

TABLES = """
CREATE TABLE orders (id bigint PRIMARY KEY);
CREATE SCHEMA ledger;
CREATE TABLE ledger.entries (id bigint PRIMARY KEY, amount numeric NOT NULL);
CREATE SCHEMA "Audit";
CREATE TABLE "Audit".events (id bigint);
"""


def dumped_tables(shell: Shell, *args: str) -> list[str]:
    outcome = shell.run("dump", *args)
    assert outcome.code == 0, outcome.output
    return sorted(yaml.safe_load(outcome.stdout)["tables"])


@pytest.mark.one_major
def test_dump_covers_every_schema_by_default(shell: Shell, db: str, scratch_dsn: str) -> None:
    run_sql(db, TABLES)
    # an apply leaves mmschema's own history schema: never part of a dump
    shell.write(
        "schema.yaml", "version: 1\ntables:\n  orders:\n    columns: {id: {type: bigint}}\n"
    )
    shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert dumped_tables(shell, "-d", db) == ["Audit.events", "ledger.entries", "orders"]
    assert dumped_tables(shell, "-d", db, "--schema", "ledger") == ["ledger.entries"]
    assert dumped_tables(shell, "-d", db, "--schema", "ledger", "--schema", "public") == [
        "ledger.entries",
        "orders",
    ]
    assert dumped_tables(shell, "-d", db, "ledger") == ["ledger.entries"]
    assert dumped_tables(shell, "-d", db, "orders", "ledger.entries") == [
        "ledger.entries",
        "orders",
    ]


@pytest.mark.one_major
def test_the_whole_dump_plans_nothing(shell: Shell, db: str, scratch_dsn: str) -> None:
    run_sql(db, TABLES)
    assert shell.run("dump", "-d", db, "-o", "schema.yaml").code == 0
    again = shell.run("plan", "--detailed-exitcode", "-d", db, "--dev-database", scratch_dsn)
    assert again.code == 0, again.output


@pytest.mark.one_major
def test_a_schema_or_table_that_does_not_exist_is_an_error(shell: Shell, db: str) -> None:
    run_sql(db, TABLES)
    named = shell.run("dump", "-d", db, "nosuch")
    assert named.code == 1 and named.stdout == ""
    assert "nosuch: no table or schema of that name" in named.stderr, named.stderr
    flagged = shell.run("dump", "-d", db, "--schema", "nosuch")
    assert flagged.code == 1 and flagged.stdout == ""
    assert "schema nosuch does not exist" in flagged.stderr, flagged.stderr
    assert "Traceback" not in named.output + flagged.output
