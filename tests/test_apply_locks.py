"""A lock held by another session: apply retries, names the blocker, and never half-applies."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

import mmschema.apply
import mmschema.backfill
from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql

# Signals, killed backends, other sessions' locks and writer threads race with the apply
# by design; a run the machine's scheduling upset is tried again (and shown as rerun).
# Lock waits and retries behave the same on every major.
pytestmark = [pytest.mark.flaky(reruns=2, reruns_delay=1), pytest.mark.one_major]


SCHEMA = """\
version: 1
tables:
  t:
    columns:
      id:   {type: integer, nullable: false}
      note: {type: text}
      more: {type: text, backfill: "'x' || id"}
    primary_key: [id]
"""


def apply(tmp_path: Path, db: str, scratch: str, retries: int) -> Result:
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA)
    return run_cli(
        [
            "apply",
            "-f",
            str(path),
            "-d",
            db,
            "--dev-database",
            scratch,
            "--yes",
            "--lock-timeout",
            "200ms",
            "--retries",
            str(retries),
        ],
        tmp_path,
    )


def columns(db: str) -> list[str]:
    rows = query(
        db,
        "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum",
    )
    return [r[0] for r in rows]


def test_lock_held_fails_after_retries_and_names_blocker(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
    with psycopg.connect(db, application_name="blocker-app") as blocker:
        blocker.execute("SELECT * FROM t").fetchall()  # ACCESS SHARE, transaction left open
        pid = blocker.info.backend_pid
        started = time.monotonic()
        result = apply(tmp_path, db, scratch_dsn, retries=2)
        assert time.monotonic() - started < 30
        assert result.code == 1, result.stdout + result.stderr
        output = result.stdout + result.stderr
        assert f"pid {pid}" in output and "blocker-app" in output
        assert "after 3 tries" in output
        assert result.stderr.count("lock timeout, retry") == 2
        blocker.rollback()
    assert columns(db) == ["id"]  # nothing half-done
    ((outcome,),) = query(db, "SELECT outcome FROM mmschema.history")
    assert outcome == "failed"


def test_lock_released_while_retrying_then_apply_succeeds(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
    blocker = psycopg.connect(db)
    blocker.execute("SELECT * FROM t").fetchall()
    pid = blocker.info.backend_pid

    def release() -> None:
        time.sleep(1.0)
        blocker.commit()

    thread = threading.Thread(target=release)
    thread.start()
    try:
        result = apply(tmp_path, db, scratch_dsn, retries=8)
    finally:
        thread.join(timeout=10)
        blocker.close()
    assert result.code == 0, result.stdout + result.stderr
    assert "lock timeout, retry 1/" in result.stderr
    assert f"pid {pid}" in result.stderr
    assert columns(db) == ["id", "note", "more"]
    assert query(db, "SELECT count(*) FROM t WHERE more IS DISTINCT FROM 'x' || id") == [(0,)]

    path = tmp_path / "schema.yaml"
    plan = run_cli(
        ["plan", "-f", str(path), "-d", db, "--dev-database", scratch_dsn, "--detailed-exitcode"],
        tmp_path,
    )
    assert plan.code == 0, plan.stdout + plan.stderr


def test_backfill_blocked_names_blocker_and_resumes_later(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
    blocker = psycopg.connect(db, application_name="share-locker")
    real = mmschema.backfill.run_backfill

    def blocked(*args: Any, **kwargs: Any) -> Any:
        blocker.execute("LOCK TABLE t IN SHARE MODE")  # conflicts with the UPDATE's lock
        return real(*args, **kwargs)

    monkeypatch.setattr(mmschema.apply, "run_backfill", blocked)
    try:
        result = apply(tmp_path, db, scratch_dsn, retries=1)
        pid = blocker.info.backend_pid
    finally:
        blocker.rollback()
        blocker.close()
    assert result.code == 1, result.stdout + result.stderr
    assert f"pid {pid}" in result.stdout + result.stderr and "share-locker" in result.stderr
    assert columns(db) == ["id", "note", "more"]  # the column is added; its backfill pends
    assert query(db, "SELECT count(*) FROM t WHERE more IS NULL") == [(2,)]

    monkeypatch.setattr(mmschema.apply, "run_backfill", real)
    again = apply(tmp_path, db, scratch_dsn, retries=1)
    assert again.code == 0, again.stdout + again.stderr
    assert "resume" in again.stdout
    assert query(db, "SELECT count(*) FROM t WHERE more IS DISTINCT FROM 'x' || id") == [(0,)]
