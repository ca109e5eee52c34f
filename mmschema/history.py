"""The record of apply runs in `mmschema.history`: who applied which file, each statement, outcomes.

History is written on its own autocommit connection, so a run that fails, is interrupted or
loses its apply connection still leaves its rows. The tables live in schema `mmschema`,
which a schema file never names, so they are never managed or reported as unmanaged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import __version__
from mmschema.backfill import BackfillJob
from mmschema.connect import redact
from mmschema.ddl import Statement
from mmschema.model import QualifiedName
from mmschema.plan import PlannedChange

SCHEMA = "mmschema"
ABANDONED = (
    "its mmschema died without recording an end (killed, or the server restarted); "
    "the apply lock was free, noticed by the next apply"
)

CREATE_SQL = (
    "CREATE SCHEMA IF NOT EXISTS mmschema",
    """CREATE TABLE IF NOT EXISTS mmschema.history (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        finished_at timestamptz,
        db_user text NOT NULL DEFAULT current_user,
        client_addr inet DEFAULT inet_client_addr(),
        mmschema_version text NOT NULL,
        file_checksum text NOT NULL,
        file_text text NOT NULL,
        outcome text NOT NULL DEFAULT 'running'
            CONSTRAINT history_outcome_check
            CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted', 'abandoned')),
        message text
    )""",
    """CREATE TABLE IF NOT EXISTS mmschema.history_statements (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES mmschema.history (id) ON DELETE CASCADE,
        position integer NOT NULL,
        change_kind text NOT NULL,
        change_object text NOT NULL,
        sql text NOT NULL,
        backfill jsonb,
        started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        duration_ms double precision,
        outcome text NOT NULL DEFAULT 'running',
        error text,
        resumed_by bigint REFERENCES mmschema.history (id) ON DELETE SET NULL
    )""",
    """CREATE INDEX IF NOT EXISTS history_statements_run_id
        ON mmschema.history_statements (run_id, position)""",
)


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT to_regclass('mmschema.history') IS NOT NULL"
        " AND to_regclass('mmschema.history_statements') IS NOT NULL"
    ).fetchone()
    return bool(row and row[0])


def ensure(conn: psycopg.Connection[Any], tables: Sequence[QualifiedName] = ()) -> None:
    """Create the history schema and tables if missing (run under the apply lock), usable by
    the owners of the given tables and the database's owner too."""
    if exists(conn):
        _allow_abandoned(conn)
    else:
        for statement in CREATE_SQL:
            conn.execute(statement)
    _share_with_owners(conn, tables)


def _share_with_owners(conn: psycopg.Connection[Any], tables: Sequence[QualifiedName]) -> None:
    """Whoever owns the managed tables must be able to apply next: grant them the history
    (when this role owns it), so that a superuser's first apply locks no one out."""
    names = [sql.Identifier(t.schema, t.name).as_string(conn) for t in tables]
    rows = conn.execute(
        """SELECT DISTINCT pg_get_userbyid(owner) FROM (
               SELECT c.relowner FROM unnest(%s::text[]) AS t(name)
               JOIN pg_class c ON c.oid = to_regclass(t.name)
               UNION SELECT datdba FROM pg_database WHERE datname = current_database()
           ) AS owners(owner)
           WHERE owner <> current_user::regrole
             AND pg_has_role((SELECT nspowner FROM pg_namespace WHERE nspname = 'mmschema'),
                             'USAGE')""",
        (names,),
    ).fetchall()
    for (owner,) in rows:
        role = sql.Identifier(owner)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA mmschema TO {}").format(role))
        conn.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE ON mmschema.history, mmschema.history_statements"
                " TO {}"
            ).format(role)
        )


def usability_problem(conn: psycopg.Connection[Any]) -> str | None:
    """Why this role could not record a run in the history, if it could not."""
    row = conn.execute(
        """SELECT current_user, n.oid IS NOT NULL, pg_get_userbyid(n.nspowner),
                  n.oid IS NULL OR has_schema_privilege(n.oid, 'USAGE'),
                  has_database_privilege(current_database(), 'CREATE')
           FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = 'mmschema'"""
    ).fetchone()
    assert row is not None
    role, schema_exists, owner, usage, create = row
    if not schema_exists:
        if create:
            return None
        return (
            f"role {role} may not create the history schema mmschema in this database "
            f"(GRANT CREATE ON DATABASE to it, or apply once as the database's owner)"
        )
    grant = (
        f"GRANT USAGE ON SCHEMA mmschema TO {role}; GRANT SELECT, INSERT, UPDATE ON "
        f"mmschema.history, mmschema.history_statements TO {role}"
    )
    if not usage:
        return f"role {role} may not use the history schema mmschema (owned by {owner}): {grant}"
    if not exists(conn):
        row = conn.execute("SELECT has_schema_privilege('mmschema', 'CREATE')").fetchone()
        if row and row[0]:
            return None
        return f"role {role} may not create the history tables in schema mmschema ({owner}'s)"
    # has_table_privilege with a list of privileges is true when any one is held
    writable = conn.execute(
        """SELECT bool_and(has_table_privilege(t, p))
           FROM unnest(ARRAY['mmschema.history', 'mmschema.history_statements']) AS t,
                unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) AS p"""
    ).fetchone()
    if writable and writable[0]:
        return None
    return f"role {role} may not write the history in schema mmschema (owned by {owner}): {grant}"


def _allow_abandoned(conn: psycopg.Connection[Any]) -> None:
    """History made by an older mmschema has no 'abandoned' outcome: add it."""
    row = conn.execute(
        """SELECT pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = 'mmschema.history'::regclass AND conname = 'history_outcome_check'"""
    ).fetchone()
    if row is not None and "abandoned" in str(row[0]):
        return
    conn.execute(
        """ALTER TABLE mmschema.history DROP CONSTRAINT IF EXISTS history_outcome_check,
           ADD CONSTRAINT history_outcome_check CHECK (outcome IN
               ('running', 'succeeded', 'failed', 'interrupted', 'abandoned'))"""
    )


def mark_abandoned(conn: psycopg.Connection[Any]) -> list[int]:
    """Runs still `running` while this apply holds the apply lock died (their process was
    killed, or the server restarted, before they could record an end): say so."""
    if not exists(conn):
        return []
    rows = conn.execute("SELECT id FROM mmschema.history WHERE outcome = 'running'").fetchall()
    if not rows:
        return []
    ids = [int(r[0]) for r in rows]
    _allow_abandoned(conn)
    with conn.transaction():
        conn.execute(
            """UPDATE mmschema.history_statements SET outcome = 'abandoned'
               WHERE run_id = ANY(%s) AND outcome = 'running'""",
            (ids,),
        )
        conn.execute(
            """UPDATE mmschema.history SET outcome = 'abandoned', message = %s
               WHERE id = ANY(%s)""",
            (ABANDONED, ids),
        )
    return ids


class Recorder:
    """Writes one run and its statements, each insert committed at once."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        file_text: str,
        tables: Sequence[QualifiedName] = (),
    ) -> None:
        self.conn = conn
        ensure(conn, tables)
        row = conn.execute(
            """INSERT INTO mmschema.history (mmschema_version, file_checksum, file_text)
               VALUES (%s, %s, %s) RETURNING id""",
            (__version__, checksum(file_text), file_text),
        ).fetchone()
        assert row is not None
        self.run_id: int = row[0]
        self.position = 0
        self.finished = False

    def begin(
        self, planned: PlannedChange, statement: Statement, backfill: BackfillJob | None = None
    ) -> int:
        return self.begin_raw(planned.kind, planned.object, statement.sql, backfill)

    def begin_raw(self, kind: str, obj: str, sql_text: str, backfill: BackfillJob | None) -> int:
        self.position += 1
        data = json.dumps(backfill.to_json()) if backfill else None
        row = self.conn.execute(
            """INSERT INTO mmschema.history_statements
                   (run_id, position, change_kind, change_object, sql, backfill)
               VALUES (%s, %s, %s, %s, %s, %s::jsonb) RETURNING id""",
            (self.run_id, self.position, kind, obj, sql_text, data),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def end(self, handle: int, outcome: str, seconds: float, error: str | None = None) -> None:
        self.conn.execute(
            """UPDATE mmschema.history_statements
               SET outcome = %s, duration_ms = %s, error = %s WHERE id = %s""",
            (outcome, round(seconds * 1000, 3), error and redact(error), handle),
        )

    def progress(self, handle: int, done: int, total: int | None) -> None:
        """How far a backfill got, in its job's JSON (plan and drift show it if it stops)."""
        self.conn.execute(
            """UPDATE mmschema.history_statements
               SET backfill = backfill
                   || jsonb_build_object('done', %s::bigint, 'total', %s::bigint)
               WHERE id = %s""",
            (done, total, handle),
        )

    def mark_resumed(self, handle: int) -> None:
        self.conn.execute(
            "UPDATE mmschema.history_statements SET resumed_by = %s WHERE id = %s",
            (self.run_id, handle),
        )

    def finish(self, outcome: str, message: str | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        self.conn.execute(
            """UPDATE mmschema.history_statements SET outcome = %s
               WHERE run_id = %s AND outcome = 'running'""",
            (outcome, self.run_id),
        )
        self.conn.execute(
            """UPDATE mmschema.history SET outcome = %s, message = %s,
                   finished_at = clock_timestamp() WHERE id = %s""",
            (outcome, message and redact(message), self.run_id),
        )


@dataclass
class PendingBackfill:
    statement_id: int
    run_id: int
    job: BackfillJob
    done: int | None = None  # rows it had updated when last recorded
    total: int | None = None  # the table's estimated rows then


def pending_backfills(conn: psycopg.Connection[Any]) -> list[PendingBackfill]:
    """Backfills of earlier runs that did not finish and no later run has taken over."""
    if not exists(conn):
        return []
    rows = conn.execute(
        """SELECT id, run_id, backfill FROM mmschema.history_statements
           WHERE backfill IS NOT NULL AND outcome <> 'succeeded' AND resumed_by IS NULL
           ORDER BY id"""
    ).fetchall()
    return [
        PendingBackfill(
            r[0], r[1], BackfillJob.from_json(r[2]), r[2].get("done"), r[2].get("total")
        )
        for r in rows
    ]


@dataclass
class RunRow:
    id: int
    started_at: datetime
    finished_at: datetime | None
    db_user: str
    client_addr: str | None
    mmschema_version: str
    file_checksum: str
    outcome: str
    message: str | None
    statements: int


@dataclass
class StatementRow:
    position: int
    change_kind: str
    change_object: str
    sql: str
    started_at: datetime
    duration_ms: float | None
    outcome: str
    error: str | None


RUNS_SQL = """SELECT h.id, h.started_at, h.finished_at, h.db_user,
                      host(h.client_addr) AS client_addr,
                      h.mmschema_version, h.file_checksum, h.outcome, h.message,
                      (SELECT count(*) FROM mmschema.history_statements s
                       WHERE s.run_id = h.id)::int AS statements
               FROM mmschema.history h"""


def list_runs(conn: psycopg.Connection[Any], limit: int = 50) -> list[RunRow]:
    """The latest runs, newest first."""
    with conn.cursor(row_factory=class_row(RunRow)) as cursor:
        cursor.execute(RUNS_SQL + " ORDER BY h.id DESC LIMIT %s", (limit,))
        return cursor.fetchall()


def get_run(conn: psycopg.Connection[Any], run_id: int) -> RunRow | None:
    with conn.cursor(row_factory=class_row(RunRow)) as cursor:
        cursor.execute(RUNS_SQL + " WHERE h.id = %s", (run_id,))
        return cursor.fetchone()


def run_statements(conn: psycopg.Connection[Any], run_id: int) -> list[StatementRow]:
    with conn.cursor(row_factory=class_row(StatementRow)) as cursor:
        cursor.execute(
            """SELECT position, change_kind, change_object, sql, started_at, duration_ms,
                      outcome, error
               FROM mmschema.history_statements WHERE run_id = %s ORDER BY position""",
            (run_id,),
        )
        return cursor.fetchall()


def run_file(conn: psycopg.Connection[Any], run_id: int) -> str | None:
    row = conn.execute("SELECT file_text FROM mmschema.history WHERE id = %s", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def later_run_files(conn: psycopg.Connection[Any], run_id: int) -> list[tuple[int, str]]:
    """(id, file text) of every run after `run_id`, oldest first."""
    rows = conn.execute(
        "SELECT id, file_text FROM mmschema.history WHERE id > %s ORDER BY id", (run_id,)
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]
