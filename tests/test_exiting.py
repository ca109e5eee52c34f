"""A command process ends at once after its output (exiting.leave), yet runs its atexit
handlers, waits for a thread still working and closes a connection left open."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from tests.outside import Shell
from tests.test_startup import imported

SCHEMA = """\
version: 1
tables:
  notes:
    columns:
      id: {type: bigint, identity: always}
      body: {type: text}
    primary_key: [id]
"""


def ended(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` (which ends with leave()) in a new Python process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.one_major
def test_leave_runs_atexit_handlers_and_flushes_the_output(tmp_path: Path) -> None:
    done = ended(
        """
        import atexit, pathlib, sys
        from mmschema.exiting import leave
        atexit.register(lambda: pathlib.Path("atexit-ran").write_text("yes"))
        sys.stdout.write("no newline at the end")
        leave(3)
        """,
        tmp_path,
    )
    assert (done.returncode, done.stdout) == (3, "no newline at the end"), done.stderr
    assert (tmp_path / "atexit-ran").read_text() == "yes"


@pytest.mark.one_major
def test_leave_waits_for_a_thread_still_working(tmp_path: Path) -> None:
    done = ended(
        """
        import pathlib, threading, time
        from mmschema.exiting import leave
        def work():
            time.sleep(0.3)
            pathlib.Path("written").write_text("done")
        threading.Thread(target=work).start()
        leave(0)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "written").read_text() == "done"


@pytest.mark.one_major
def test_leave_closes_a_connection_left_open(db: str, tmp_path: Path) -> None:
    done = ended(
        f"""
        import sys
        from mmschema.connect import connect
        from mmschema.exiting import leave
        conn = connect({db!r})
        conn.autocommit = False
        conn.execute("SELECT 1")  # a transaction left open
        close = conn.close
        def close_and_say():
            print("closed", conn.info.transaction_status.name)
            close()
        conn.close = close_and_say
        leave(0)
        """,
        tmp_path,
    )
    assert (done.returncode, done.stdout) == (0, "closed INTRANS\n"), done.stderr


@pytest.mark.one_major
def test_a_plan_imports_no_other_command(shell: Shell, db: str, scratch_dsn: str) -> None:
    """Planning loads its own modules, not apply's, the server command's or drift's."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY, body text)")
        conn.execute("ALTER TABLE notes ADD PRIMARY KEY (id)")
    shell.write("schema.yaml", SCHEMA)
    assert shell.run("plan", "-d", db, "--dev-database", scratch_dsn).code == 0
    python = [sys.executable, "-X", "importtime", "-m", "mmschema"]
    warm = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, command=python)
    assert warm.code == 0, warm.stderr
    assert "No changes" in warm.stdout
    modules = imported(warm.stderr)
    assert "mmschema.planner" in modules
    others = {
        "mmschema.commands.applying",
        "mmschema.commands.drifting",
        "mmschema.commands.runs",
        "mmschema.commands.serving",
        "mmschema.commands.formatting",
        "mmschema.aftercare",
        "mmschema.rehearsal",
    }
    assert sorted(modules & others) == []
