"""The README's quick start and usage lines, run as written by the installed command.

The command lines are read from README.md's ```sh blocks (so the test follows the README as
it changes); each block runs with the nearest ```yaml block above it that starts a schema
as schema.yaml. The quick start runs with no database configured (the embedded default);
the usage lines get a test database as $DATABASE_URL. Placeholders are filled the way a
reader would: N is a run number, [...] is taken, files a line reads are written first.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.outside import Outcome, Shell

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)  # ```yaml inventory: yaml
# What each exit code means in the README: 2 only where a difference is reported, 3 only
# for an apply that has no terminal to ask on.
SQL_BASE = "CREATE TABLE imported (id bigint PRIMARY KEY, note text);\n"
SQL_MIGRATION = "ALTER TABLE imported ADD COLUMN tag text;\nUPDATE imported SET tag = note;\n"


@dataclass(frozen=True)
class Block:
    schema: str | None  # the schema.yaml text in force for this block
    lines: list[str]


def readme_blocks() -> list[Block]:
    """Each ```sh block's mmschema lines, with the schema declared above it."""
    blocks: list[Block] = []
    schema: str | None = None
    for language, body in FENCE.findall(README.read_text()):
        if language == "yaml" and body.startswith("version: 1"):
            schema = body
        elif language in ("sh", "bash", "shell", "console"):
            lines = [line for line in body.splitlines() if line.startswith("mmschema ")]
            if lines:
                blocks.append(Block(schema, lines))
    return blocks


def inventory_text() -> str:
    found = [
        body
        for lang, body in FENCE.findall(README.read_text())
        if lang == "yaml" and body.startswith("targets:")
    ]
    assert found, "README shows no inventory file"
    return str(found[0])


def commands_of(line: str, env: dict[str, str]) -> list[tuple[list[str], str | None]]:
    """(arguments after `mmschema`, file stdout goes to) for each command of the line."""
    words = shlex.split(line, comments=True)
    commands: list[tuple[list[str], str | None]] = []
    current: list[str] = []
    for word in [*words, "&&"]:
        if word != "&&":
            current.append(word)
            continue
        redirect = None
        if ">" in current:
            at = current.index(">")
            redirect, current = current[at + 1], current[:at]
        assert current[0] == "mmschema", line
        args = [fill(word, env) for word in current[1:]]
        commands.append(([a for a in args if a], redirect))
        current = []
    return commands


def fill(word: str, env: dict[str, str]) -> str:
    word = word.strip("[]")
    if word == "N":
        return "1"
    return re.sub(r"\$(\w+)", lambda m: env[m.group(1)], word)


def expected_codes(args: list[str]) -> set[int]:
    command = args[0]
    if command == "apply" and "--yes" not in args:
        return {3}  # the README says: asks on a terminal, refused without --yes elsewhere
    if command in ("plan", "drift"):
        return {0, 2}
    if command == "fmt" and "--check" in args:
        return {0, 1}  # 1: the file would change
    return {0}


def prepare(shell: Shell, args: list[str], env: dict[str, str]) -> None:
    """Write what the line reads: import sources, an inventory, a git history."""
    if args[0] == "import":
        for source in (a for a in args[1:] if not a.startswith("-")):
            if shell.path(source).exists() or source.endswith(".yaml"):
                continue
            if source.endswith(".sql"):
                shell.write(source, SQL_BASE)
            else:
                shell.write(f"{source.rstrip('/')}/001-tag.sql", SQL_MIGRATION)
    if "-i" in args:
        name = args[args.index("-i") + 1]
        text = inventory_text()
        shell.write(name, text)
        for target in yaml.safe_load(text)["targets"].values():
            if "dsn_env" in target:
                env[target["dsn_env"]] = env["DATABASE_URL"]
    for arg in args:
        found = re.match(r"^git:(?P<rev>[^:]+):(?P<path>.+)$", arg)
        if found and not shell.path(".git").exists():
            git_history(shell, found["rev"])


def git_history(shell: Shell, rev: str) -> None:
    """A repository whose REV (e.g. origin/main) holds the current files."""
    identity = ["-c", "user.name=reader", "-c", "user.email=reader@example.com"]
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        [*identity, "commit", "-qm", "start"],
        ["update-ref", f"refs/remotes/{rev}", "HEAD"],
    ):
        done = shell.run(*args, command=["git"])
        assert done.code == 0, done.output


def run_line(shell: Shell, line: str, env: dict[str, str]) -> list[Outcome]:
    outcomes = []
    for args, redirect in commands_of(line, env):
        prepare(shell, args, env)
        outcome = shell.run(*args, env=env, timeout=300)
        where = f"`{line}` ({' '.join(args)})"
        assert "Traceback" not in outcome.output, f"{where}\n{outcome.output}"
        assert outcome.code in expected_codes(args), f"{where}: exit {outcome.code}\n" + (
            outcome.output
        )
        if redirect is not None:
            shell.write(redirect, outcome.stdout)
        outcomes.append(outcome)
    return outcomes


def test_the_readme_has_a_quick_start_and_usage_lines() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 2, "a quick start block and a usage block"
    assert all(block.schema for block in blocks)


@pytest.mark.one_major
def test_the_readme_runs_as_written(shell: Shell, db: str) -> None:
    quick_start, *usage = readme_blocks()
    shell.write("schema.yaml", quick_start.schema or "")
    for line in quick_start.lines:  # the embedded PostgreSQL is the target: nothing set
        run_line(shell, line, {})
    env = {"DATABASE_URL": db}
    for block in usage:
        shell.write("schema.yaml", block.schema or "")
        for line in block.lines:
            run_line(shell, line, env)
