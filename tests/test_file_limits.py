"""Files that are not schema text: special files, huge, deep, alias bombs, not UTF-8."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.outside import Shell, taking_turns

MAX_FILE_BYTES = 64 * 1024 * 1024  # the documented limit

pytestmark = pytest.mark.one_major

GOOD = "version: 1\ntables:\n  t:\n    columns: {id: {type: int4}}\n"


def alias_bomb() -> str:
    lines = ["version: 1", "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in "bcdefghij":
        previous = chr(ord(level) - 1)
        lines.append(f"x-{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def deep_block(levels: int) -> str:
    return "version: 1\nx-deep:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(levels)
    )


TEXT_CASES: dict[str, tuple[Callable[[], str | bytes], str]] = {
    # name: (file content, the expected error after "schema.yaml")
    "deep-flow-sequence": (lambda: "version: 1\ntables: " + "[" * 500 + "\n",
                           r":2:\d+: nested more than 64 levels deep"),
    "deep-flow-mapping": (lambda: "version: 1\ntables: " + "{a: " * 500 + "\n",
                          r":2:\d+: nested more than 64 levels deep"),
    "deep-block": (lambda: deep_block(300), r":\d+:\d+: nested more than 64 levels deep"),
    "alias-bomb": (alias_bomb, r":\d+:\d+: too many values"),
    "latin-1": (lambda: b"version: 1\ntables:\n  caf\xe9:\n    columns: {}\n",
                r":3:6: not UTF-8 text \(byte 0xe9\)"),
    "empty": (lambda: "", r":1:1: the file is empty"),
    "duplicate-keys": (lambda: GOOD + "  t:\n    columns: {x: {type: int4}}\n",
                       r":5:3: duplicate key 't' in 'tables' \(first at line 3\)"),
}


def assert_one_clean_line(output: str, stderr: str, pattern: str) -> None:
    assert "Traceback" not in output, output
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, output
    assert re.search(pattern, lines[0]), output


@pytest.mark.parametrize(("case", "shell"), taking_turns(TEXT_CASES), indirect=["shell"])
def test_hostile_text_gets_file_line_column(shell: Shell, case: str) -> None:
    make, pattern = TEXT_CASES[case]
    content = make()
    path = shell.path("schema.yaml")
    if isinstance(content, bytes):
        path.write_bytes(content)
        os.chmod(path, 0o644)
    else:
        shell.write("schema.yaml", content)
    result = shell.run("validate", timeout=30)
    assert result.code == 1, result.output
    assert_one_clean_line(result.output, result.stderr, "^schema.yaml" + pattern)


def test_character_device_is_refused_at_once(shell: Shell) -> None:
    result = shell.run("validate", "-f", "/dev/zero", timeout=30)
    assert result.code == 1
    assert_one_clean_line(result.output, result.stderr, r"^/dev/zero: not a regular file")


def test_fifo_is_refused_without_blocking(shell: Shell) -> None:
    os.mkfifo(shell.path("schema.yaml"), 0o644)
    for command in (["validate"], ["plan", "-d", "postgresql://nobody@127.0.0.1:1/x"]):
        result = shell.run(*command, timeout=30)
        assert result.code == 1, result.output
        assert_one_clean_line(
            result.output, result.stderr, r"^schema.yaml: not a regular file \(a FIFO\)"
        )


def test_special_entries_of_a_directory_are_refused(shell: Shell) -> None:
    shell.write("schema/a.yaml", GOOD)
    os.mkfifo(shell.path("schema/b.yaml"), 0o644)
    os.symlink("/dev/zero", shell.path("schema/c.yaml"))
    result = shell.run("validate", "-f", "schema", timeout=30)
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        "schema/b.yaml: not a regular file (a FIFO); give a schema file",
        "schema/c.yaml: not a regular file (a character device); give a schema file",
    ]


def test_file_over_the_size_limit_is_refused(shell: Shell) -> None:
    path: Path = shell.write("schema.yaml", GOOD)
    with path.open("r+b") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    result = shell.run("validate", timeout=30)
    assert result.code == 1
    assert_one_clean_line(result.output, result.stderr, r"^schema.yaml: larger than 64 MiB")
