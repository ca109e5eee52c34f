"""`mmschema --version` and `--help` answer without importing the heavy libraries."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.outside import Shell

HEAVY = ("psycopg", "rich", "pglast", "yaml", "jsonschema")
PACKAGE = Path(__file__).resolve().parent.parent / "mmschema"


def imported(importtime_output: str) -> set[str]:
    """Module names in `python -X importtime` output."""
    names = set()
    for line in importtime_output.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["plan", "--help"]])
def test_version_and_help_import_nothing_heavy(shell: Shell, args: list[str]) -> None:
    outcome = shell.run(*args, command=[sys.executable, "-X", "importtime", "-m", "mmschema"])
    assert outcome.code == 0, outcome.output
    assert "mmschema" in outcome.stdout
    modules = imported(outcome.stderr)
    assert "mmschema.cli" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_commands_do_not_import_the_command_line() -> None:
    """cli.py imports the commands when one runs; they never import cli.py back."""
    for path in [*(PACKAGE / "commands").glob("*.py"), PACKAGE / "command_base.py"]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "mmschema.cli", path
            elif isinstance(node, ast.Import):
                assert all(alias.name != "mmschema.cli" for alias in node.names), path
