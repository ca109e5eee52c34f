"""Apply's guards: a busy apply lock, roles that may not, dead runs, timeouts, blocker ages."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from mmschema.waiting import ADVISORY_LOCK_KEY
from tests.clirunner import run_cli
from tests.conftest import query, run_sql
from tests.outside import Shell

pytestmark = [pytest.mark.one_major, pytest.mark.flaky(reruns=2, reruns_delay=1)]

TABLE = """\
version: 1
tables:
  t:
    columns:
      id:   {type: integer, nullable: false}
      note: {type: text}
    primary_key: [id]
"""
WIDER = TABLE.replace(
    "      note: {type: text}\n", "      note: {type: text}\n      more: {type: text}\n"
)


CREATE_ON_DATABASE = "GRANT CREATE ON DATABASE {database} TO {role}"


def as_role(dsn: str, role: str) -> str:
    return make_conninfo(dsn, user=role)


def new_role(db: str, stem: str, *grants: str) -> str:
    role = f"{stem}_{secrets.token_hex(3)}"
    run_sql(db, f"CREATE ROLE {role} LOGIN")
    for grant in grants:
        database = psycopg.conninfo.conninfo_to_dict(db)["dbname"]
        run_sql(db, grant.format(role=role, database=database))
    return role


@pytest.fixture
def holder(db: str) -> Iterator[psycopg.Connection[object]]:
    """A session holding mmschema's apply lock, as a running apply does."""
    with psycopg.connect(db, autocommit=True, application_name="the-other-apply") as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        yield conn


def test_busy_apply_lock_is_one_line_naming_the_holder(
    shell: Shell, db: str, scratch_dsn: str, holder: psycopg.Connection[object]
) -> None:
    shell.write("schema.yaml", TABLE)
    pid = holder.info.backend_pid
    for fmt in (["--format", "text"], ["--format", "json"]):
        started = time.monotonic()
        result = shell.run(
            "apply", "--yes", "--lock-wait", "5", *fmt, "-d", db, "--dev-database", scratch_dsn
        )
        assert 5 <= time.monotonic() - started < 30
        assert result.code == 1, result.output
        assert "Traceback" not in result.output
        final = [line for line in result.stderr.splitlines() if line.startswith("mmschema:")]
        assert len(final) == 1, result.output
        assert "another apply is running" in final[0]
        assert f"pid {pid}" in final[0] and "the-other-apply" in final[0], final[0]
    assert query(db, "SELECT to_regclass('t')") == [(None,)]


def test_role_that_does_not_own_the_tables_changes_nothing(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    owner = new_role(db, "owner", "GRANT CREATE ON SCHEMA public TO {role}", CREATE_ON_DATABASE)
    other = new_role(
        db,
        "other",
        "GRANT CREATE ON SCHEMA public TO {role}",
        CREATE_ON_DATABASE,
    )
    run_sql(as_role(db, owner), "CREATE TABLE t (id integer PRIMARY KEY, note text)")
    shell.write("schema.yaml", WIDER)
    result = shell.run("apply", "--yes", "-d", as_role(db, other), "--dev-database", scratch_dsn)
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    assert f"table public.t is owned by {owner}; role {other} cannot alter it" in result.stderr
    assert query(db, "SELECT to_regnamespace('mmschema')") == [(None,)]  # nothing created
    assert query(
        db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'more'"
    ) == [(0,)]
    done = shell.run("apply", "--yes", "-d", as_role(db, owner), "--dev-database", scratch_dsn)
    assert done.code == 0, done.output


def test_history_made_by_a_superuser_stays_usable_by_the_tables_owner(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    owner = new_role(db, "owner", "GRANT CREATE ON SCHEMA public TO {role}")
    run_sql(as_role(db, owner), "CREATE TABLE t (id integer PRIMARY KEY, note text)")
    shell.write("schema.yaml", TABLE + "    comment: by the superuser\n")
    first = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert first.code == 0, first.output
    shell.write("schema.yaml", WIDER)
    second = shell.run("apply", "--yes", "-d", as_role(db, owner), "--dev-database", scratch_dsn)
    assert second.code == 0, second.output
    outcomes = query(db, "SELECT db_user, outcome FROM mmschema.history ORDER BY id")
    assert outcomes == [("postgres", "succeeded"), (owner, "succeeded")]


def test_unusable_history_is_refused_before_any_change(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    owner = new_role(db, "owner", "GRANT CREATE ON SCHEMA public TO {role}")
    run_sql(as_role(db, owner), "CREATE TABLE t (id integer PRIMARY KEY, note text)")
    run_sql(db, "CREATE SCHEMA mmschema")  # made by hand, by the superuser, with no grants
    (tmp_path / "schema.yaml").write_text(WIDER)
    result = run_cli(
        ["apply", "--yes", "-d", as_role(db, owner), "--dev-database", scratch_dsn], tmp_path
    )
    assert result.code == 1, result.stderr
    assert f"role {owner} may not use the history schema mmschema" in result.stderr
    assert "GRANT USAGE ON SCHEMA mmschema" in result.stderr
    assert query(
        db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'more'"
    ) == [(0,)]


def test_killed_apply_is_marked_abandoned_by_the_next(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, note text)")
    shell.write("schema.yaml", WIDER)
    blocker = psycopg.connect(db)
    blocker.execute("SELECT * FROM t").fetchall()  # the ADD COLUMN waits and retries
    process = subprocess.Popen(
        shell.argv(
            *("apply", "--yes", "-d", db, "--dev-database", scratch_dsn),
            *("--lock-timeout", "200ms", "--retries", "200"),
        ),
        cwd=shell.project,
        env=shell.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not query(db, "SELECT 1 FROM pg_namespace WHERE nspname = 'mmschema'") or not query(
            db, "SELECT 1 FROM mmschema.history WHERE outcome = 'running'"
        ):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.1)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
    finally:
        blocker.close()
    deadline = time.monotonic() + 30
    while query(db, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"):
        assert time.monotonic() < deadline, "the killed apply's session never ended"
        time.sleep(0.1)
    assert query(db, "SELECT outcome FROM mmschema.history") == [("running",)]
    again = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert again.code == 0, again.output
    assert "run 1 died without an end; marked abandoned" in again.stderr
    rows = query(db, "SELECT id, outcome FROM mmschema.history ORDER BY id")
    assert rows == [(1, "abandoned"), (2, "succeeded")]
    listing = shell.run("history", "-d", db)
    assert listing.code == 0 and "abandoned" in listing.stdout, listing.output
    shown = shell.run("history", "-d", db, "--show", "1")
    assert "run 1: abandoned" in shown.stdout and "died" in shown.stdout, shown.output


def test_a_raised_statement_timeout_is_said(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write("schema.yaml", TABLE + "settings: {lock_timeout: 3s, statement_timeout: 3500ms}\n")
    result = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert result.code == 0, result.output
    assert "statement_timeout 3500ms is raised to 4000ms, lock_timeout (3000ms) + 1s" in (
        result.stderr
    )


def test_backfill_batches_run_under_statement_timeout(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "CREATE TABLE t (id integer PRIMARY KEY, note text);"
        "INSERT INTO t SELECT g FROM generate_series(1, 4) g",
    )
    shell.write(
        "schema.yaml",
        TABLE.replace(
            "      note: {type: text}\n",
            "      note: {type: text}\n"
            '      slow: {type: text, backfill: "pg_sleep(1)::text || id"}\n',
        )
        + "settings: {lock_timeout: 500ms, statement_timeout: 2s}\n",
    )
    started = time.monotonic()
    result = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert time.monotonic() - started < 30
    assert result.code == 1, result.output
    assert "statement timeout" in result.output, result.output
    assert "Traceback" not in result.output


def blocked_apply(tmp_path: Path, dsn: str, scratch: str) -> str:
    """An apply that waits on a lock held since 1.5 s: its output, naming the blocker."""
    (tmp_path / "schema.yaml").write_text(WIDER)
    result = run_cli(
        [
            "apply",
            "--yes",
            "-d",
            dsn,
            "--dev-database",
            scratch,
            "--lock-timeout",
            "200ms",
            "--retries",
            "1",
        ],
        tmp_path,
    )
    assert result.code == 1, result.stderr
    return result.stderr


def test_blocker_message_gives_the_real_transaction_age(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    owner = new_role(
        db,
        "owner",
        "GRANT CREATE ON SCHEMA public TO {role}",
        CREATE_ON_DATABASE,
    )
    run_sql(as_role(db, owner), "CREATE TABLE t (id integer PRIMARY KEY, note text)")
    with psycopg.connect(db, application_name="blocker-app") as blocker:
        blocker.execute("SELECT * FROM t").fetchall()
        time.sleep(1.5)
        as_superuser = blocked_apply(tmp_path, db, scratch_dsn)
        ages = [float(a) for a in re.findall(r"transaction open ([0-9.]+)s", as_superuser)]
        assert ages and min(ages) >= 1.5, as_superuser
        as_owner = blocked_apply(tmp_path, as_role(db, owner), scratch_dsn)
        assert "transaction open 0.0s" not in as_owner
        assert "transaction age hidden from this role (grant it pg_read_all_stats)" in as_owner
        blocker.rollback()


def test_lock_wait_is_kept_while_another_apply_runs(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """The lock is released by the holder meanwhile: the waiting apply then runs."""
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, note text)")
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        threading.Timer(1.5, lambda: conn.execute("SELECT pg_advisory_unlock_all()")).start()
        (tmp_path / "schema.yaml").write_text(WIDER)
        result = run_cli(
            ["apply", "--yes", "--lock-wait", "20", "-d", db, "--dev-database", scratch_dsn],
            tmp_path,
        )
        assert result.code == 0, result.stderr
        assert "waiting for another apply to finish" in result.stderr
