"""A schema directory stands for each of its *.yaml and *.yml files (the installed command)."""

from __future__ import annotations

import pytest

from tests.outside import Shell


def table_file(name: str) -> str:
    return f"version: 1\ntables:\n  {name}:\n    columns: {{id: {{type: integer}}}}\n"


@pytest.mark.one_major
def test_yml_files_of_a_directory_are_read_and_never_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("db/a.yaml", table_file("a"))
    shell.write("db/b.yml", table_file("b"))
    outcome = shell.run("validate", "-f", "db")
    assert outcome.code == 0, outcome.output
    assert "2 tables" in outcome.output

    applied = shell.run("apply", "--yes", "-f", "db", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    pruned = shell.run(
        "plan", "--prune", "--detailed-exitcode", "-f", "db", "-d", db,
        "--dev-database", scratch_dsn,
    )
    assert pruned.code == 0, pruned.output
    assert "drop_table" not in pruned.output


@pytest.mark.one_major
def test_a_table_declared_in_a_yaml_and_a_yml_file_is_one_error(shell: Shell) -> None:
    shell.write("db/a.yaml", table_file("a"))
    shell.write("db/b.yml", table_file("a"))
    outcome = shell.run("validate", "-f", "db")
    assert outcome.code == 1, outcome.output
    assert "b.yml:3:" in outcome.output
    assert "Traceback" not in outcome.output


@pytest.mark.one_major
def test_a_directory_without_schema_files_is_one_line(shell: Shell) -> None:
    shell.write("db/notes.txt", "nothing here\n")
    outcome = shell.run("validate", "-f", "db")
    assert outcome.code == 1
    assert outcome.stderr.strip().endswith("no *.yaml or *.yml files in this directory")
    assert len(outcome.stderr.strip().splitlines()) == 1
