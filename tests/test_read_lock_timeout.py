"""plan, drift and dump never wait long behind a lock: one line naming it, exit 1."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell, taking_turns

# A table never analyzed (so its size is asked) whose column changes type, a standalone
# sequence (its position is read) and a materialized view (its size is read).
TARGET = """
CREATE TABLE t (id integer PRIMARY KEY, note text);
INSERT INTO t SELECT g, 'n' FROM generate_series(1, 10) g;
CREATE SEQUENCE counter;
CREATE MATERIALIZED VIEW t_notes AS SELECT note FROM t;
"""

FILE = """\
version: 1
tables:
  t:
    columns:
      id:   {type: bigint, nullable: false}
      note: {type: text}
    primary_key: [id]
sequences:
  counter: {}
materialized_views:
  t_notes:
    query: SELECT note FROM t
"""

# Each takes ACCESS EXCLUSIVE on the relation in a transaction left open.
LOCKS = {
    "t": "LOCK TABLE t IN ACCESS EXCLUSIVE MODE",
    "counter": "DROP SEQUENCE counter",
    "t_notes": "REFRESH MATERIALIZED VIEW t_notes",
    "pg_depend": "LOCK TABLE pg_catalog.pg_depend IN ACCESS EXCLUSIVE MODE",  # every read
}


@pytest.mark.one_major
@pytest.mark.parametrize(("relation", "shell"), taking_turns(LOCKS), indirect=["shell"])
def test_a_locked_relation_stops_the_read_with_one_line(
    shell: Shell, db: str, scratch_dsn: str, relation: str
) -> None:
    run_sql(db, TARGET)
    shell.write("schema.yaml", FILE)
    wait = {"MMSCHEMA_READ_LOCK_TIMEOUT": "500ms"}
    with psycopg.connect(db) as blocker:
        blocker.execute("SET application_name = 'the_blocker'")
        blocker.execute(LOCKS[relation])
        for command in ("plan", "drift", "dump"):
            args = [command, "-d", db]
            if command != "dump":
                args += ["--dev-database", scratch_dsn]
            started = time.monotonic()
            outcome = shell.run(*args, env=wait, timeout=90)
            seconds = time.monotonic() - started
            assert outcome.code == 1, (command, outcome.output)
            assert "Traceback" not in outcome.output
            assert outcome.stdout == ""
            [line] = [line for line in outcome.stderr.splitlines() if line.startswith("mmschema:")]
            assert line.startswith(f"mmschema: {command} waited 500ms (MMSCHEMA_READ_LOCK_TIMEOUT)")
            assert f"{relation} is locked ACCESS EXCLUSIVE by pid " in line
            assert "application 'the_blocker'" in line
            assert seconds < 30, (command, seconds)
        if relation == "t":
            bad = shell.run("plan", "-d", db, env={"MMSCHEMA_READ_LOCK_TIMEOUT": "soon"})
            assert bad.code == 1
            assert bad.stderr.strip() == (
                "mmschema: MMSCHEMA_READ_LOCK_TIMEOUT='soon' is not a duration "
                "(e.g. 10s, 1min, or off)"
            )
    for command in ("plan", "drift"):  # the lock released: the reads go through
        done = shell.run(command, "-d", db, "--dev-database", scratch_dsn, env=wait)
        assert done.code in (0, 2), done.output


@pytest.mark.one_major
def test_apply_names_the_lock_its_plan_waited_for(shell: Shell, db: str, scratch_dsn: str) -> None:
    """apply reads under its own --lock-timeout: past it, the same line, nothing changed."""
    run_sql(db, TARGET)
    shell.write("schema.yaml", FILE)
    args = ("apply", "--yes", "-d", db, "--dev-database", scratch_dsn, "--lock-timeout", "500ms")
    with psycopg.connect(db) as blocker:
        blocker.execute("SET application_name = 'the_blocker'")
        blocker.execute(LOCKS["counter"])
        outcome = shell.run(*args, timeout=90)
        blocker.rollback()
    assert outcome.code == 1, outcome.output
    assert "Traceback" not in outcome.output
    [line] = [line for line in outcome.stderr.splitlines() if line.startswith("mmschema:")]
    assert line.startswith("mmschema: apply waited 500ms (--lock-timeout) for a lock on "), line
    assert "counter is locked ACCESS EXCLUSIVE by pid " in line
    assert line.endswith("or raise it (settings.lock_timeout)")
    assert query(db, "SELECT format_type(atttypid, NULL) FROM pg_attribute"
                 " WHERE attrelid = 't'::regclass AND attname = 'id'") == [("integer",)]


@pytest.mark.one_major
def test_history_names_a_locked_history(shell: Shell, db: str, scratch_dsn: str) -> None:
    """The runs apply recorded are read under the same limit (drift goes on without them)."""
    shell.write("schema.yaml", "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}}\n")
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    wait = {"MMSCHEMA_READ_LOCK_TIMEOUT": "500ms"}
    with psycopg.connect(db) as blocker:
        blocker.execute("LOCK TABLE mmschema.history IN ACCESS EXCLUSIVE MODE")
        outcome = shell.run("history", "-d", db, env=wait, timeout=90)
        assert outcome.code == 1, outcome.output
        assert "Traceback" not in outcome.output
        [line] = [x for x in outcome.stderr.splitlines() if x.startswith("mmschema:")]
        assert line.startswith("mmschema: history waited 500ms"), line
        assert "mmschema.history is locked ACCESS EXCLUSIVE by pid " in line
        drift = shell.run("drift", "-d", db, "--dev-database", scratch_dsn, env=wait, timeout=90)
        assert drift.code == 0, drift.output
        assert "Last apply: none recorded (no readable mmschema.history)." in drift.stdout
        blocker.rollback()
    assert shell.run("history", "-d", db, env=wait).code == 0
