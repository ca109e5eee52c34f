"""The installed command runs in a fresh directory as root and as a normal user."""

from __future__ import annotations

from tests.outside import Shell


def test_validate_runs_as_a_new_process(shell: Shell) -> None:
    shell.write("schema.yaml", "version: 1\ntables:\n  t:\n    columns: {id: {type: int}}\n")
    outcome = shell.run("validate")
    assert outcome.code == 0, outcome.output
    assert "Traceback" not in outcome.output


def test_a_bad_file_is_one_clear_answer(shell: Shell) -> None:
    shell.write("schema.yaml", "version: 1\ntables:\n  t:\n    colums: {}\n")
    outcome = shell.run("validate")
    assert outcome.code == 1
    assert "schema.yaml:4:" in outcome.output
    assert "Traceback" not in outcome.output
