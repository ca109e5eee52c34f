"""Faults at seeded random moments, through the installed command: SIGTERM and SIGINT to
`apply`, the target's connection terminated under `plan` (reading) and `apply`, the
target server stopped under `apply`. Each run ends with a documented exit code and at
most one line on stderr, no traceback; the database is left consistent (no INVALID index,
no advisory lock held) and a second apply converges: the plan after it is empty.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from mmschema.localserver import LocalServer
from tests.conftest import ROOT, make_server_dir, query, run_sql
from tests.outside import Outcome, Shell, taking_turns

pytestmark = pytest.mark.one_major

SEED = 20261207
TRIALS = 4
SECONDS = 90

TARGET = """
CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
INSERT INTO accounts SELECT g, 'user' || g FROM generate_series(1, 300000) g;
CREATE TABLE notes (id bigint PRIMARY KEY, body text);
INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
VACUUM ANALYZE accounts, notes;
"""
SCHEMA = """\
version: 1
tables:
  accounts:
    columns:
      id: {type: bigint, nullable: false}
      email: {type: text}
      credit: {type: integer, nullable: false, default: 0}
    primary_key: [id]
    indexes:
      accounts_email: {columns: [email]}
      accounts_lower_email: {columns: [{expr: lower(email)}]}
    checks:
      credit_positive: credit >= 0
  notes:
    columns:
      id: {type: bigint, nullable: false}
      body: {type: text}
      account_id: {type: bigint}
    primary_key: [id]
    indexes:
      notes_body: {columns: [body, id]}
    foreign_keys:
      notes_account: {columns: [account_id], references: {table: accounts}}
  tags:
    columns:
      id: {type: bigint, identity: always}
      name: {type: text, nullable: false}
    primary_key: [id]
    unique:
      tags_name: {columns: [name]}
views:
  emails:
    query: SELECT id, lower(email) AS email FROM accounts
functions:
  credit_of(bigint):
    returns: integer
    body: SELECT credit FROM accounts WHERE id = $1
    volatility: stable
"""


def new_target(server: LocalServer, label: str) -> str:
    name = f"fault_{label}_{time.monotonic_ns()}"
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = server.dsn(name)
    run_sql(dsn, TARGET)
    return dsn


def drop_target(server: LocalServer, dsn: str) -> None:
    name = conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


def finish(process: subprocess.Popen[str]) -> Outcome:
    try:
        out, err = process.communicate(timeout=SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"no end within {SECONDS}s:\n{out}\n{err}")
    return Outcome(process.returncode, out, err)


def assert_one_clean_line(outcome: Outcome, codes: dict[int, str | None]) -> None:
    """An exit code of `codes`; a failure with nothing or the one line it maps to on stderr
    (a run that ended well may have said more there: notes of the plan)."""
    assert "Traceback" not in outcome.output, outcome.output
    assert outcome.code in codes, outcome.output
    if outcome.code == 0:
        return
    lines = outcome.stderr.strip().splitlines()
    expected = codes[outcome.code]
    if expected is None:
        assert len(lines) <= 1, outcome.output
        assert all(line.startswith("mmschema: ") for line in lines), outcome.output
    else:
        assert lines == [expected], outcome.output


def assert_consistent_and_converging(
    shell: Shell, dsn: str, scratch: str, cut_builds: bool = False
) -> None:
    """No INVALID index (with `cut_builds`, a build whose connection was cut off may stay
    INVALID until the next apply, which must build it), no advisory lock, no row lost."""
    invalid = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
    if not cut_builds:
        assert query(dsn, invalid) == [(0,)]
    assert query(dsn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]
    assert query(dsn, "SELECT count(*) FROM accounts") == [(300000,)]
    again = shell.run("apply", "--yes", "-d", dsn, "--dev-database", scratch, timeout=SECONDS)
    assert again.code == 0, again.output
    assert query(dsn, invalid) == [(0,)]
    planned = shell.run(
        "plan", "--detailed-exitcode", "-d", dsn, "--dev-database", scratch, timeout=SECONDS
    )
    assert planned.code == 0, planned.output


def moments(label: str) -> list[float]:
    """Seeded delays after the start: early (imports, planning) to late (the steps)."""
    rng = random.Random(f"{SEED}-{label}")
    return [round(rng.uniform(0.05, 6.0), 2) for _ in range(TRIALS)]


@pytest.mark.parametrize(("delay", "shell"), taking_turns(moments("signal")), indirect=["shell"])
def test_a_signal_at_a_random_moment_of_apply(
    shell: Shell, pg_server: LocalServer, scratch_dsn: str, delay: float
) -> None:
    signum = random.Random(f"{SEED}-{delay}").choice((signal.SIGTERM, signal.SIGINT))
    dsn = new_target(pg_server, "signal")
    try:
        shell.write("schema.yaml", SCHEMA)
        process = shell.start("apply", "--yes", "-d", dsn, "--dev-database", scratch_dsn)
        time.sleep(delay)
        process.send_signal(signum)
        outcome = finish(process)
        line = "mmschema: terminated" if signum == signal.SIGTERM else "mmschema: interrupted"
        code = 143 if signum == signal.SIGTERM else 130
        assert_one_clean_line(outcome, {0: None, code: line})
        assert_consistent_and_converging(shell, dsn, scratch_dsn)
    finally:
        drop_target(pg_server, dsn)


def terminate_soon(dsn: str, delay: float, process: subprocess.Popen[str]) -> int:
    """After `delay`, terminate every backend of mmschema on the target; how many."""
    time.sleep(delay)
    if process.poll() is not None:
        return 0
    rows = query(
        dsn,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND application_name LIKE 'mmschema%'",
    )
    return int(rows[0][0])


TERMINATIONS = [(c, d) for c in ("plan", "apply") for d in moments(f"terminate-{c}")]


@pytest.mark.parametrize(
    ("when", "shell"),
    taking_turns(TERMINATIONS, [f"{c}-{d}" for c, d in TERMINATIONS]),
    indirect=["shell"],
)
def test_the_target_connection_terminated_at_a_random_moment(
    shell: Shell, pg_server: LocalServer, scratch_dsn: str, when: tuple[str, float]
) -> None:
    command, delay = when
    dsn = new_target(pg_server, "terminate")
    try:
        shell.write("schema.yaml", SCHEMA)
        extra = ["--yes"] if command == "apply" else []
        process = shell.start(command, *extra, "-d", dsn, "--dev-database", scratch_dsn)
        terminate_soon(dsn, delay / 3 if command == "plan" else delay, process)
        outcome = finish(process)
        if command == "plan":
            assert_one_clean_line(outcome, {0: None, 1: None})
            return
        # a step's failure is on its line of stdout; stderr has at most the one line
        assert_one_clean_line(outcome, {0: None, 1: None})
        assert_consistent_and_converging(shell, dsn, scratch_dsn, cut_builds=True)
    finally:
        drop_target(pg_server, dsn)


@pytest.fixture(scope="module")
def own_server() -> Iterator[LocalServer]:
    """A server of its own, to stop under an apply (the shared one serves other tests)."""
    from mmschema.localserver import bin_dir_for_major

    home = make_server_dir("faults")
    server = LocalServer(bin_dir_for_major(17, ROOT), home / "data", fast=True)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize(("fault", "shell"), taking_turns(["stop"]), indirect=["shell"])
def test_the_target_server_stopped_during_apply(
    shell: Shell, own_server: LocalServer, scratch_dsn: str, fault: str
) -> None:
    dsn = new_target(own_server, "stopped")
    shell.write("schema.yaml", SCHEMA)
    process = shell.start("apply", "--yes", "-d", dsn, "--dev-database", scratch_dsn)
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        rows = query(
            dsn,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'mmschema%'"
            " AND state = 'active' AND query ILIKE 'CREATE INDEX%'",
        )
        if rows[0][0]:
            break
        time.sleep(0.05)
    own_server.stop()
    outcome = finish(process)
    own_server.start()
    assert_one_clean_line(outcome, {1: None})
    name = str(conninfo_to_dict(dsn)["dbname"])
    assert_consistent_and_converging(shell, own_server.dsn(name), scratch_dsn, cut_builds=True)


@pytest.mark.parametrize("where", ["stdout", "-o"])
def test_a_full_disk_is_one_line(shell: Shell, scratch_dsn: str, where: str) -> None:
    """Output that cannot be written (ENOSPC: /dev/full) is exit 1 and one line."""
    shell.write("migration.sql", "CREATE TABLE t (id int);\n")
    if where == "stdout":
        args = ["schema"]
    else:
        args = ["import", "migration.sql", "--dev-database", scratch_dsn, "-o", "/dev/full"]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            shell.argv(*args),
            cwd=shell.project,
            env=shell.env(),
            stdout=full if where == "stdout" else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=SECONDS,
            check=False,
        )
    outcome = Outcome(done.returncode, done.stdout or "", done.stderr)
    assert_one_clean_line(outcome, {1: None})
    assert "No space left on device" in outcome.stderr
