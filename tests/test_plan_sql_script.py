"""`plan --format sql` run with psql under a write load: as safe as apply.

Backfills run in batches, each committed (never inside the ADD COLUMN transaction);
lock_timeout and statement_timeout are set; concurrent builds run outside transactions;
NOT VALID and VALIDATE commit separately. Writers never wait long, and the result converges.
"""

from __future__ import annotations

import random
import re
import threading
import time
from pathlib import Path

import psycopg
import pytest

from mmschema.localserver import LocalServer
from tests.conftest import ROOT, query, run_sql
from tests.outside import Shell, taking_turns

ROWS = 400_000
WRITER_BOUND_SECONDS = 1.0

WANTED = """\
version: 1
tables:
  sessions:
    columns:
      id:     {type: bigint, nullable: false}
      symbol: {type: text}
      pairs:  {type: jsonb, nullable: false, default: "'[]'::jsonb",
               backfill: "jsonb_build_array(symbol, md5(symbol), md5(md5(symbol)))",
               backfill_where: "symbol IS NOT NULL"}
    primary_key: [id]
    indexes:
      sessions_symbol: {columns: [symbol]}
    checks:
      symbol_short: "length(symbol) < 100"
"""


def psql_for(server: LocalServer) -> Path:
    """psql of the server's major, else of the newest major in .pg/."""
    candidates = [server.bin_dir / "psql", *sorted((ROOT / ".pg").glob("*/bin/psql"))[::-1]]
    return next(p for p in candidates if p.is_file())


class Writers:
    """Sessions updating and inserting rows in a loop; the longest statement they saw."""

    def __init__(self, dsn: str, sessions: int = 2) -> None:
        self.dsn = dsn
        self.stop = threading.Event()
        self.longest = 0.0
        self.statements = 0
        self.errors: list[str] = []
        self.threads = [
            threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(sessions)
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def run(self, number: int) -> None:
        rng = random.Random(number)
        next_id = ROWS + 1 + number * 10_000_000
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    if rng.random() < 0.5:
                        conn.execute(
                            "UPDATE sessions SET symbol = symbol WHERE id = %s",
                            [rng.randint(1, ROWS)],
                        )
                    else:
                        conn.execute(
                            "INSERT INTO sessions (id, symbol) VALUES (%s, 'new')", [next_id]
                        )
                        next_id += 1
                except psycopg.Error as error:
                    self.errors.append(str(error))
                self.longest = max(self.longest, time.monotonic() - started)
                self.statements += 1
                time.sleep(0.005)


def transactions(script: str) -> list[str]:
    return re.findall(r"^BEGIN;\n(.*?)^COMMIT;", script, flags=re.S | re.M)


def test_sql_script_under_a_write_load_keeps_writers_moving_and_converges(
    shell: Shell, db: str, scratch_dsn: str, pg_server: LocalServer
) -> None:
    run_sql(
        db,
        "CREATE TABLE sessions (id bigint PRIMARY KEY, symbol text);"
        f"INSERT INTO sessions SELECT g, 'S' || g FROM generate_series(1, {ROWS}) g;"
        "UPDATE sessions SET symbol = NULL WHERE id % 10 = 0; VACUUM ANALYZE sessions",
    )
    shell.write("schema.yaml", WANTED)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert planned.code == 0, planned.output
    script = planned.stdout
    shell.write("plan.sql", script)

    assert "SET lock_timeout = " in script and "SET statement_timeout = " in script
    for body in transactions(script):
        assert "UPDATE" not in body, body  # no backfill inside a transaction
        assert "CONCURRENTLY" not in body, body
        assert not ("NOT VALID" in body and "VALIDATE" in body), body
    assert "COMMIT;\n    done := done + n;" in script  # a commit per batch
    assert "NOT VALID" in script and "VALIDATE CONSTRAINT" in script

    psql = psql_for(pg_server)
    with Writers(db) as writers:
        time.sleep(0.3)
        ran = shell.run(
            "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", "plan.sql",
            command=[str(psql)], timeout=600,
        )  # fmt: skip
        time.sleep(0.3)
    assert ran.code == 0, ran.output
    assert "rows in" in ran.output  # the backfill's NOTICE: rows and batches
    assert not writers.errors, writers.errors[:3]
    assert writers.statements > 20
    assert writers.longest < WRITER_BOUND_SECONDS, (
        f"a writer waited {writers.longest:.2f}s; script:\n{script}"
    )
    # Every row there was when the backfill started holds its value.
    left = query(
        db,
        "SELECT count(*) FROM sessions WHERE id <= %s AND symbol IS NOT NULL"
        " AND pairs IS DISTINCT FROM jsonb_build_array(symbol, md5(symbol), md5(md5(symbol)))",
        [ROWS],
    )
    assert left == [(0,)]
    again = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--detailed-exitcode")
    assert again.code == 0, again.output


KEYS = {  # the schema's key lines, the extra column's line, the table as it is
    "no primary key": (
        "",
        "",
        "CREATE TABLE sessions (id bigint NOT NULL, symbol text);"
        "INSERT INTO sessions SELECT g, 'S' || g FROM generate_series(1, 20000) g",
    ),
    "two key columns": (
        "    primary_key: [part, id]\n",
        "      part: {type: integer}\n",
        "CREATE TABLE sessions (id bigint, part integer, symbol text, PRIMARY KEY (part, id));"
        "INSERT INTO sessions SELECT g, g % 7, 'S' || g FROM generate_series(1, 20000) g",
    ),
    "partitions without a primary key": (
        "    partition_by: RANGE (id)\n",
        "",
        "CREATE TABLE sessions (id bigint NOT NULL, symbol text) PARTITION BY RANGE (id);"
        "CREATE TABLE sessions_a PARTITION OF sessions FOR VALUES FROM (0) TO (5000);"
        "CREATE TABLE sessions_b PARTITION OF sessions FOR VALUES FROM (5000) TO (30000);"
        "INSERT INTO sessions SELECT g, 'S' || g FROM generate_series(1, 20000) g",
    ),
}


@pytest.mark.parametrize(("kind", "shell"), taking_turns(KEYS), indirect=["shell"])
def test_sql_script_backfills_by_any_key(
    shell: Shell, db: str, scratch_dsn: str, pg_server: LocalServer, kind: str
) -> None:
    key, extra_column, table = KEYS[kind]
    run_sql(db, table)
    text = WANTED.replace("    primary_key: [id]\n", key)
    text = text.replace(
        "      symbol: {type: text}\n", "      symbol: {type: text}\n" + extra_column
    )
    shell.write("schema.yaml", text)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert planned.code == 0, planned.output
    shell.write("plan.sql", planned.stdout)
    ran = shell.run(
        "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", "plan.sql",
        command=[str(psql_for(pg_server))],
    )  # fmt: skip
    assert ran.code == 0, ran.output
    left = query(db, "SELECT count(*) FROM sessions WHERE pairs = '[]'::jsonb")
    assert left == [(0,)]
    again = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--detailed-exitcode")
    assert again.code == 0, again.output
