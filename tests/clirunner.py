"""Runs the whole CLI in-process with an injected environment, as a user would run it."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmschema.cli import main
from mmschema.environment import Environment


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str = "",
    terminal: bool = False,
) -> Result:
    stdout, stderr = io.StringIO(), io.StringIO()
    if env is None:  # the session's throwaway home (conftest.embedded_home), not the user's
        home = os.environ.get("MMSCHEMA_HOME")
        env = {"MMSCHEMA_HOME": home} if home else {}
    environment = Environment(
        stdout=stdout,
        stderr=stderr,
        stdin=io.StringIO(stdin),
        env=env,
        cwd=cwd,
        interactive=terminal,
    )
    code = main(args, environment)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def run_against(
    args: list[str],
    db: str,
    scratch: str,
    cwd: Path,
    stdin: str = "",
    terminal: bool = False,
) -> Result:
    """A command against the test database, normalizing on the test scratch database."""
    return run_cli(
        [*args, "-d", db, "--dev-database", scratch], cwd, stdin=stdin, terminal=terminal
    )


def plan_document(file: Path, db: str, scratch: str, cwd: Path, *more: str) -> Any:
    """`mmschema plan -f FILE --format json` against the test database, as a document."""
    result = run_against(["plan", "-f", str(file), "--format", "json", *more], db, scratch, cwd)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)
