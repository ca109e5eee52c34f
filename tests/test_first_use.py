"""What a new user meets first: Ctrl-C while starting, which target and why, typos, counts."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.outside import Shell, taking_turns

ONE_TABLE = "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}}\n"


# Shared libraries that load while the command imports its modules (after Python's own start,
# whose site import is out of the command's reach).
HEAVY = ("psycopg", "_yaml", "pglast")


def loading_heavy_modules(pid: int) -> bool:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return any(piece in maps for piece in HEAVY)


def interrupt(process: subprocess.Popen[str], after: float) -> tuple[int, str, str]:
    """SIGINT `after` seconds after the first heavy module's library loaded; the exit code
    and output."""
    start = time.monotonic()
    while not loading_heavy_modules(process.pid) and process.poll() is None:
        assert time.monotonic() - start < 60, "no module loaded in a minute"
        time.sleep(0.001)
    time.sleep(after)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


@pytest.mark.parametrize(("after", "shell"), taking_turns([0.0, 0.1, 0.3, 0.6]), indirect=["shell"])
def test_ctrl_c_while_starting_is_one_line(shell: Shell, after: float) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    code, stdout, stderr = interrupt(shell.start("validate"), after)
    if code == 0 and after > 0:
        assert "valid (1 table)" in stdout  # done before the signal came: nothing to see
        return
    assert "Traceback" not in stderr, stderr
    assert (code, stderr) == (130, "mmschema: interrupted\n"), (code, stdout, stderr)
