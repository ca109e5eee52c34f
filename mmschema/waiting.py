"""How apply waits: the one-apply-at-a-time advisory lock, per-statement timeouts,
lock-timeout retries with backoff, and naming the sessions that block."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors, sql

from mmschema.ddl import Statement
from mmschema.desired.declared import Settings
from mmschema.introspect import catalog_sql
from mmschema.model import QualifiedName

Notice = Callable[[str], None]

ADVISORY_LOCK_KEY = 0x6D6D736368656D61 & 0x7FFFFFFFFFFFFFFF  # "mmschema"


class ApplyFailed(Exception):
    """Apply stopped; the message says what failed and how to go on."""


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
            raise ApplyFailed(
                f"another apply is running on this database ({holder}); gave up after "
                f"waiting {wait_seconds:g}s (--lock-wait); run apply again when it is done"
            )
        if not announced:
            notice(f"waiting for another apply to finish ({holder})")
            announced = True
        time.sleep(0.5)


def describe_lock_holder(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(catalog_sql("apply_lock_holder"), {"key": ADVISORY_LOCK_KEY}).fetchone()
    if row is None:
        return "holder unknown"
    pid, app, user, host, seconds = row
    connected = f"connected {seconds:.0f}s ago" if seconds is not None else "age hidden"
    return f"pid {pid}, application {app or '?'!r}, user {user}, from {host}, {connected}"


def release_apply_lock(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))


def set_timeouts(
    conn: psycopg.Connection[Any], settings: Settings, statement: Statement | None = None
) -> None:
    """On the connection that runs statements: lock_timeout below statement_timeout.

    Every statement gets both, index builds and backfill batches included; set once for
    the session too, so that what runs between the plan's statements is bounded as well.
    """
    lock_ms = settings.lock_timeout_ms
    statement_ms = settings.applied_statement_timeout_ms
    conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{lock_ms}ms")))
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{statement_ms}ms")))


def timeouts_notice(settings: Settings) -> str | None:
    """What to say when apply does not use the declared statement_timeout as written."""
    declared, applied = settings.statement_timeout_ms, settings.applied_statement_timeout_ms
    if declared == applied:
        return None
    return (
        f"statement_timeout {declared}ms is raised to {applied}ms, lock_timeout "
        f"({settings.lock_timeout_ms}ms) + 1s, so that a lock wait ends before the statement"
    )


def run_with_retries(
    conn: psycopg.Connection[Any],
    settings: Settings,
    attempt: Callable[[], None],
    cleanup: Callable[[], None],
    notice: Notice,
    what: str,
    table: QualifiedName | None = None,
    unblock: Callable[[], list[str]] | None = None,
) -> None:
    """Run attempt(); on a lock timeout, clean up, say who blocks, back off, and try again.
    `unblock` may end what blocks (autovacuum workers): what it ended is said too."""
    for tries in range(settings.retries + 1):
        try:
            attempt()
            return
        except errors.LockNotAvailable:
            cleanup()
            blockers = describe_blockers(conn, table) if table else []
            blocked_by = f"; blocked by {'; '.join(blockers)}" if blockers else ""
            ended = unblock() if unblock is not None and tries < settings.retries else []
            if ended:
                blocked_by += f"; cancelled autovacuum {'; '.join(ended)}"
            if tries == settings.retries:
                raise ApplyFailed(
                    f"{what}: lock not obtained within {settings.lock_timeout_ms} ms after "
                    f"{settings.retries + 1} tries{blocked_by}; every earlier change is "
                    "committed, run apply again when the blocking sessions are done"
                ) from None
            delay = 0.05 if ended else min(30.0, 0.2 * 2**tries) * (0.5 + random.random())
            notice(
                f"{what}: lock timeout, retry {tries + 1}/{settings.retries} in {delay:.1f}s"
                f"{blocked_by}"
            )
            time.sleep(delay)


def cancel_autovacuum(conn: psycopg.Connection[Any], tables: list[QualifiedName]) -> list[str]:
    """Cancel the autovacuum workers holding locks on the tables (not those preventing
    wraparound), as the server does for a lock waiter after deadlock_timeout; what was
    cancelled, one line each. Only superusers may (18: pg_signal_autovacuum_worker): for
    other roles nothing is cancelled and the retries wait for the worker to finish."""
    names = [sql.Identifier(t.schema, t.name).as_string(conn) for t in tables]
    try:
        workers = conn.execute(catalog_sql("autovacuum_lockers"), {"tables": names}).fetchall()
    except psycopg.Error:
        return []
    cancelled = []
    for pid, query in workers:
        try:
            row = conn.execute("SELECT pg_cancel_backend(%s)", (pid,)).fetchone()
        except psycopg.Error:
            continue
        if row and row[0]:
            cancelled.append(f"pid {pid} ({query})")
    return cancelled


def describe_blockers(conn: psycopg.Connection[Any], table: QualifiedName) -> list[str]:
    """Other sessions holding or awaiting locks on the table, one line each.

    Our own wait is over by the time we ask (pg_blocking_pids is empty), so look at who
    holds locks on the target table instead.
    """
    try:
        name = sql.Identifier(table.schema, table.name).as_string(conn)
        rows = conn.execute(catalog_sql("table_lockers"), {"table": name}).fetchall()
    except psycopg.Error:
        return []
    return [
        f"pid {pid} ({app or 'no application_name'}, {state}, {_transaction_age(age)}, "
        f"holds {modes}: {query!r})"
        for pid, app, state, age, query, modes in rows
    ]


def _transaction_age(seconds: float | None) -> str:
    if seconds is None:  # another role's session, and this one may not see its activity
        return "transaction age hidden from this role (grant it pg_read_all_stats)"
    return f"transaction open {seconds:.1f}s"
