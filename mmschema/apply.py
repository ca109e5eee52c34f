"""Runs a plan: one apply at a time, short lock timeouts, retries, CONCURRENTLY alone."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql

from mmschema import changes as ch
from mmschema.ddl import Statement, drop_index_concurrently, temporary_index_name
from mmschema.desired.declared import Settings
from mmschema.locks import Form
from mmschema.model import QualifiedName
from mmschema.plan import Plan, PlannedChange

ADVISORY_LOCK_KEY = 0x6D6D736368656D61 & 0x7FFFFFFFFFFFFFFF  # "mmschema"


class ApplyFailed(Exception):
    """Apply stopped; the message says what failed and how to go on."""


@dataclass
class ChangeOutcome:
    change: PlannedChange
    status: str  # "changed" | "failed" | "skipped"
    seconds: float = 0.0
    error: str | None = None


@dataclass
class ApplyReport:
    outcomes: list[ChangeOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


Reporter = Callable[[ChangeOutcome], None]
Notice = Callable[[str], None]


def acquire_apply_lock(conn: psycopg.Connection[Any], wait_seconds: float, notice: Notice) -> None:
    """Poll pg_try_advisory_lock: a blocked pg_advisory_lock would deadlock with CONCURRENTLY."""
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
        if row and row[0]:
            return
        holder = describe_lock_holder(conn)
        if time.monotonic() >= deadline:
            raise ApplyFailed(f"another apply is running on this database ({holder})")
        if not announced:
            notice(f"waiting for another apply to finish ({holder})")
            announced = True
        time.sleep(0.5)


def describe_lock_holder(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(
        """SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, 'local'),
                  coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?')
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted
             AND ((l.classid::bigint << 32) | l.objid::bigint) = %s
           LIMIT 1""",
        (ADVISORY_LOCK_KEY,),
    ).fetchone()
    if row is None:
        return "holder unknown"
    pid, app, host, since = row
    return f"held by pid {pid}, application {app!r}, host {host}, since {since}"


def release_apply_lock(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))


def set_timeouts(conn: psycopg.Connection[Any], settings: Settings, statement: Statement) -> None:
    """Per statement, on the connection that runs it: lock_timeout below statement_timeout."""
    lock_ms = settings.lock_timeout_ms
    if statement.form in (Form.CREATE_INDEX_CONCURRENTLY, Form.BACKFILL):
        statement_ms = 0
    else:
        statement_ms = max(settings.statement_timeout_ms, lock_ms + 1000)
    conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{lock_ms}ms")))
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{statement_ms}ms")))


def run_with_retries(
    conn: psycopg.Connection[Any],
    settings: Settings,
    attempt: Callable[[], None],
    cleanup: Callable[[], None],
    notice: Notice,
    what: str,
) -> None:
    """Run attempt(); on a lock timeout, clean up, back off with jitter, and try again."""
    for tries in range(settings.retries + 1):
        try:
            attempt()
            return
        except errors.LockNotAvailable:
            cleanup()
            if tries == settings.retries:
                raise ApplyFailed(
                    f"{what}: lock not obtained within {settings.lock_timeout_ms} ms after "
                    f"{settings.retries + 1} tries; every earlier change is committed, "
                    "run apply again when the blocking sessions are done"
                ) from None
            delay = min(30.0, 0.2 * 2**tries) * (0.5 + random.random())
            notice(f"{what}: lock timeout, retry {tries + 1}/{settings.retries} in {delay:.1f}s")
            time.sleep(delay)


def apply_plan(
    conn: psycopg.Connection[Any],
    plan: Plan,
    settings: Settings,
    report: Reporter,
    notice: Notice,
) -> ApplyReport:
    result = ApplyReport()
    failed = False
    for planned in plan.changes:
        if failed:
            outcome = ChangeOutcome(planned, "skipped")
        else:
            outcome = _apply_change(conn, planned, settings, notice)
            failed = outcome.status == "failed"
        result.outcomes.append(outcome)
        report(outcome)
    return result


def _apply_change(
    conn: psycopg.Connection[Any], planned: PlannedChange, settings: Settings, notice: Notice
) -> ChangeOutcome:
    started = time.monotonic()
    what = f"{planned.kind} {planned.object}"
    try:
        if planned.transactional:
            run_with_retries(
                conn,
                settings,
                lambda: _run_transaction(conn, planned.statements, settings),
                lambda: None,
                notice,
                what,
            )
        else:
            for statement in planned.statements:
                run_with_retries(
                    conn,
                    settings,
                    lambda s=statement: _run_alone(conn, s, settings),  # type: ignore[misc]
                    lambda: _cleanup_failed_build(conn, planned),
                    notice,
                    what,
                )
    except ApplyFailed as error:
        return ChangeOutcome(planned, "failed", time.monotonic() - started, str(error))
    except psycopg.Error as error:
        _cleanup_failed_build(conn, planned)
        message = error.diag.message_primary or str(error).strip()
        return ChangeOutcome(planned, "failed", time.monotonic() - started, f"{what}: {message}")
    return ChangeOutcome(planned, "changed", time.monotonic() - started)


def _run_transaction(
    conn: psycopg.Connection[Any], statements: tuple[Statement, ...], settings: Settings
) -> None:
    with conn.transaction():
        for statement in statements:
            set_timeouts(conn, settings, statement)
            conn.execute(statement.sql.encode())


def _run_alone(conn: psycopg.Connection[Any], statement: Statement, settings: Settings) -> None:
    set_timeouts(conn, settings, statement)
    conn.execute(statement.sql.encode())


def _cleanup_failed_build(conn: psycopg.Connection[Any], planned: PlannedChange) -> None:
    """A failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it at once."""
    change = planned.change
    names: list[tuple[QualifiedName, str]] = []
    if isinstance(change, ch.CreateIndex | ch.RebuildInvalidIndex) and (
        not isinstance(change, ch.CreateIndex) or change.concurrently
    ):
        names.append((change.table, change.index.name))
    elif isinstance(change, ch.ReplaceIndex):
        names.append((change.table, temporary_index_name(change.new.name)))
    for table, name in names:
        row = conn.execute(
            """SELECT NOT i.indisvalid FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relname = %s""",
            (table.schema, name),
        ).fetchone()
        if row and row[0]:
            conn.execute("SET lock_timeout = 0")
            conn.execute(drop_index_concurrently(table.schema, name).sql.encode())


def touched_tables(plan: Plan) -> list[QualifiedName]:
    tables: list[QualifiedName] = []
    for planned in plan.changes:
        table = getattr(planned.change, "table", None)
        if isinstance(table, QualifiedName):
            tables.append(table)
        elif isinstance(planned.change, ch.CreateTable):
            tables.append(planned.change.table.name)
        elif isinstance(planned.change, ch.RenameTable):
            tables.append(planned.change.new)
    return list(dict.fromkeys(tables))


def analyze(conn: psycopg.Connection[Any], tables: list[QualifiedName]) -> None:
    """ANALYZE the tables the plan touched (those that still exist)."""
    conn.execute("SET statement_timeout = 0")
    for table in tables:
        name = sql.Identifier(table.schema, table.name).as_string(conn)
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        if exists and exists[0]:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.schema, table.name)))


def failing_assertions(conn: psycopg.Connection[Any], assertions: dict[str, str]) -> list[str]:
    """Names of the file's assertions whose query returns rows, with the row count."""
    failures = []
    for name, query in assertions.items():
        rows = conn.execute(query.encode()).fetchall()
        if rows:
            failures.append(f"{name} ({len(rows)} rows)")
    return failures
