"""Faults during apply, run as a real subprocess so signals are real.

Each test ends with the database consistent (no INVALID index, no half-applied change)
and a second apply converging.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from mmschema.localserver import LocalServer
from tests.clirunner import Result, run_cli
from tests.conftest import ROOT, query, run_sql

# Signals, killed backends, other sessions' locks and writer threads race with the apply
# by design; a run the machine's scheduling upset is tried again (and shown as rerun).
pytestmark = pytest.mark.flaky(reruns=2, reruns_delay=1)


BIG_TABLE = """\
version: 1
tables:
  big:
    columns:
      id: {type: integer, nullable: false}
      v:  {type: text}
    primary_key: [id]
"""

BIG_INDEXED = (
    BIG_TABLE
    + """\
    indexes:
      idx_big_v: {columns: [v, id]}
"""
)

ROWS = 1_500_000


def make_big_table(db: str, rows: int = ROWS) -> None:
    run_sql(
        db,
        "CREATE TABLE big (id integer PRIMARY KEY, v text);"
        f"INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, {rows}) g;"
        "VACUUM ANALYZE big",
    )


def write_schema(directory: Path, text: str) -> Path:
    path = directory / "schema.yaml"
    path.write_text(text)
    return path


def start_apply(directory: Path, text: str, db: str, scratch: str) -> subprocess.Popen[str]:
    path = write_schema(directory, text)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PG") and k not in ("DATABASE_URL", "MMSCHEMA_DATABASE_URL")
    }
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmschema",
            "apply",
            "-f",
            str(path),
            "-d",
            db,
            "--dev-database",
            scratch,
            "--yes",
        ],
        cwd=directory,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_backend(
    db: str, process: subprocess.Popen[str], condition: str, timeout: float = 60.0
) -> int:
    """The pid of the apply's backend once it matches condition (SQL on pg_stat_activity)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(
            db,
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name LIKE 'mmschema%' AND state = 'active' AND " + condition,
        )
        if rows:
            return int(rows[0][0])
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"apply ended early ({process.returncode}):\n{out}\n{err}")
        time.sleep(0.05)
    process.kill()
    out, err = process.communicate()
    pytest.fail(f"apply's backend never matched {condition}:\n{out}\n{err}")


def finish(process: subprocess.Popen[str], timeout: float = 60.0) -> Result:
    out, err = process.communicate(timeout=timeout)
    return Result(process.returncode, out, err)


def building_index(db: str) -> str:
    return "query ILIKE 'CREATE INDEX%'"


def cli(command: str, directory: Path, text: str, db: str, scratch: str) -> Result:
    path = write_schema(directory, text)
    extra = ["--yes"] if command == "apply" else ["--detailed-exitcode"]
    return run_cli(
        [command, "-f", str(path), "-d", db, "--dev-database", scratch, *extra], directory
    )


def invalid_indexes(db: str) -> list[str]:
    rows = query(
        db,
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE NOT i.indisvalid",
    )
    return [r[0] for r in rows]


def last_run_outcome(db: str) -> str | None:
    rows = query(
        db,
        "SELECT outcome FROM mmschema.history ORDER BY id DESC LIMIT 1",
    )
    return rows[0][0] if rows else None


def assert_clean_failure(result: Result, codes: tuple[int, ...], reason: str | None = None) -> None:
    """Exit status in codes, no traceback; the reason on the failed change's line, or
    (without a reason) a last stderr line starting with `mmschema:`."""
    text = result.stdout + result.stderr
    assert result.code in codes, text
    assert "Traceback" not in text, text
    if reason is not None:
        failed = [line for line in result.stdout.splitlines() if reason in line]
        assert failed, text
        return
    last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    assert last.startswith("mmschema:"), text


def assert_converges(directory: Path, text: str, db: str, scratch: str) -> None:
    again = cli("apply", directory, text, db, scratch)
    assert again.code == 0, again.stdout + again.stderr
    assert invalid_indexes(db) == []
    planned = cli("plan", directory, text, db, scratch)
    assert planned.code == 0, planned.stdout + planned.stderr


def advisory_lock_free(db: str) -> bool:
    rows = query(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    return int(rows[0][0]) == 0


@pytest.mark.parametrize(
    ("signum", "codes"),
    [(signal.SIGINT, (130,)), (signal.SIGTERM, (143,))],
    ids=["sigint", "sigterm"],
)
def test_signal_during_concurrent_build(
    db: str, scratch_dsn: str, tmp_path: Path, signum: int, codes: tuple[int, ...]
) -> None:
    make_big_table(db)
    process = start_apply(tmp_path, BIG_INDEXED, db, scratch_dsn)
    backend = wait_for_backend(db, process, building_index(db))
    time.sleep(0.3)
    process.send_signal(signum)
    result = finish(process)
    assert_clean_failure(result, codes)
    assert "interrupted" in result.stderr or "terminated" in result.stderr
    # the build was cancelled on the server, not left running
    assert query(
        db, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active'", [backend]
    ) == [(0,)]
    assert invalid_indexes(db) == []
    assert last_run_outcome(db) == "interrupted"
    assert advisory_lock_free(db)
    assert_converges(tmp_path, BIG_INDEXED, db, scratch_dsn)


def terminate(db: str, pid: int) -> None:
    run_sql(db, f"SELECT pg_terminate_backend({pid})")


def test_backend_terminated_during_concurrent_build(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    make_big_table(db)
    process = start_apply(tmp_path, BIG_INDEXED, db, scratch_dsn)
    backend = wait_for_backend(db, process, building_index(db))
    time.sleep(0.3)
    terminate(db, backend)
    result = finish(process)
    assert_clean_failure(result, (1,), "terminating connection due to administrator command")
    assert "failed: [create_index] public.big.idx_big_v" in result.stdout
    assert last_run_outcome(db) == "failed"
    assert advisory_lock_free(db)
    # an INVALID index may be left (the connection that would drop it is gone):
    # the next apply rebuilds it and converges
    assert set(invalid_indexes(db)) <= {"idx_big_v"}
    assert_converges(tmp_path, BIG_INDEXED, db, scratch_dsn)


MANY_COLUMNS = """\
version: 1
tables:
  a:
    columns:
      id: {type: integer, nullable: false}
      x:  {type: integer, nullable: false, default: 1}
    primary_key: [id]
    checks:
      a_x_positive: "x > 0"
  b:
    columns:
      id: {type: integer, nullable: false}
      y:  {type: integer, nullable: false, default: 2}
      z:  {type: text}
    primary_key: [id]
"""


@pytest.mark.parametrize("fault", ["terminate", "sigint"])
def test_fault_while_a_transactional_change_waits_for_a_lock(
    db: str, scratch_dsn: str, tmp_path: Path, fault: str
) -> None:
    run_sql(
        db,
        "CREATE TABLE a (id integer PRIMARY KEY); CREATE TABLE b (id integer PRIMARY KEY);"
        "INSERT INTO a SELECT generate_series(1, 100);"
        "INSERT INTO b SELECT generate_series(1, 100)",
    )
    with psycopg.connect(db, autocommit=False) as blocker:
        blocker.execute("SELECT count(*) FROM b")  # holds ACCESS SHARE on b until rollback
        process = start_apply(tmp_path, MANY_COLUMNS, db, scratch_dsn)
        backend = wait_for_backend(
            db, process, "wait_event_type = 'Lock' AND query ILIKE 'ALTER TABLE%'"
        )
        if fault == "terminate":
            terminate(db, backend)
        else:
            process.send_signal(signal.SIGINT)
        result = finish(process)
        blocker.rollback()
    if fault == "terminate":
        assert_clean_failure(result, (1,), "terminating connection due to administrator command")
        assert last_run_outcome(db) == "failed"
    else:
        assert_clean_failure(result, (130,))
        assert last_run_outcome(db) == "interrupted"
    # each change is all-or-nothing: b has either all its new columns or none
    columns = {
        r[0]
        for r in query(
            db,
            "SELECT attname FROM pg_attribute WHERE attrelid = 'b'::regclass AND attnum > 0"
            " AND NOT attisdropped",
        )
    }
    assert columns in ({"id"}, {"id", "y"}, {"id", "z"}, {"id", "y", "z"})
    assert query(db, "SELECT count(*) FROM pg_constraint WHERE NOT convalidated") == [(0,)]
    assert advisory_lock_free(db)
    assert_converges(tmp_path, MANY_COLUMNS, db, scratch_dsn)


@pytest.mark.one_major
@pytest.mark.parametrize("kind", ["unreachable", "wrong_password"])
def test_connection_failures_are_one_line(
    pg_server: LocalServer, db: str, scratch_dsn: str, tmp_path: Path, kind: str
) -> None:
    secret = "s3cret-Pa55word"
    if kind == "unreachable":
        target = f"postgresql://nobody:{secret}@127.0.0.1:1/nowhere?connect_timeout=2"
    else:
        run_sql(db, f"CREATE ROLE faulty LOGIN PASSWORD 'right-{secret}'")
        require_password(pg_server, "faulty")
        target = _with_user(pg_server, db, "faulty", secret)
    write_schema(tmp_path, BIG_TABLE)
    result = run_cli(
        ["apply", "-f", "schema.yaml", "-d", target, "--dev-database", scratch_dsn, "--yes"],
        tmp_path,
    )
    text = result.stdout + result.stderr
    assert result.code == 1, text
    assert secret not in text
    assert "Traceback" not in text
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmschema:"), text
    if kind == "wrong_password":
        run_sql(db, "DROP ROLE faulty")


def require_password(server: LocalServer, role: str) -> None:
    """Make the (trust-authenticated) test server check this one role's password."""
    hba = server.data_dir / "pg_hba.conf"
    text = hba.read_text()
    rule = f"host all {role} 127.0.0.1/32 scram-sha-256\n"
    if rule not in text:
        with hba.open("r+") as handle:  # in place: keeps the file's owner
            handle.write(rule + text)
    run_sql(server.dsn(), "SELECT pg_reload_conf()")
    time.sleep(0.2)


def _with_user(server: LocalServer, db: str, user: str, password: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(db)
    params.update(user=user, password=password)
    return make_conninfo(**{k: str(v) for k, v in params.items()})


PHASES = ("initializing", "waiting for", "building index", "index validation")


@pytest.mark.one_major
@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_long_index_build_shows_progress_on_a_terminal_only(
    db: str, scratch_dsn: str, tmp_path: Path, terminal: bool
) -> None:
    make_big_table(db, 1_000_000)
    path = write_schema(tmp_path, BIG_INDEXED)
    result = run_cli(
        ["apply", "-f", str(path), "-d", db, "--dev-database", scratch_dsn, "--yes"],
        tmp_path,
        terminal=terminal,
    )
    assert result.code == 0, result.stdout + result.stderr
    shown = [line for line in result.stderr.splitlines() if "public.big.idx_big_v" in line]
    if terminal:
        assert shown, result.stderr
        assert any(phase in line for line in shown for phase in PHASES), result.stderr
    else:
        assert shown == [], result.stderr
        assert result.stderr.strip() == "", result.stderr
    assert query(
        db, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mmschema-progress'"
    ) == [(0,)]
