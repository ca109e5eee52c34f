"""How long plan, drift and dump may wait on the target: lock_timeout and statement_timeout
on their read-only connection, and the one line that says what held them up."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from psycopg import errors

from mmschema.connect import primary_message
from mmschema.introspect import catalog_sql

LOCK_VARIABLE = "MMSCHEMA_READ_LOCK_TIMEOUT"
DEFAULT_LOCK_MS = 10_000
# No catalog statement of a read comes near this; one that does is stopped, not waited on.
STATEMENT_GUARD_MS = 600_000
NEVER = ("off", "never", "0")


class ReadStopped(Exception):
    """A read of the target waited too long: one line, exit 1."""


def read_lock_timeout_ms(env: Mapping[str, str]) -> int:
    """$MMSCHEMA_READ_LOCK_TIMEOUT in ms (default 10 s; 0: wait as long as it takes)."""
    from mmschema.desired.load import duration_ms

    text = env.get(LOCK_VARIABLE, "").strip().lower()
    if not text:
        return DEFAULT_LOCK_MS
    if text in NEVER:
        return 0
    ms = duration_ms(int(text) * 1000 if text.isdigit() else text)
    if ms is None:
        raise ReadStopped(f"{LOCK_VARIABLE}={text!r} is not a duration (e.g. 10s, 1min, or off)")
    return ms


def shown_ms(ms: int) -> str:
    if ms >= 60_000 and ms % 60_000 == 0:
        return f"{ms // 60_000}min"
    return f"{ms / 1000:g}s" if ms % 1000 == 0 or ms > 1000 else f"{ms}ms"


@contextlib.contextmanager
def bounded_reads(
    conn: psycopg.Connection[Any], env: Mapping[str, str], what: str, label: str
) -> Iterator[None]:
    """Within the block, conn's statements wait at most $MMSCHEMA_READ_LOCK_TIMEOUT for a
    lock and run at most STATEMENT_GUARD_MS; past either, ReadStopped says what held them
    (the catalog functions a read calls lock the relations they look at, so a LOCK TABLE
    would otherwise hold the read forever). `what` is the command, `label` the target."""
    lock_ms = read_lock_timeout_ms(env)
    conn.execute(
        "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
        (f"{lock_ms}ms", f"{STATEMENT_GUARD_MS}ms"),
    )
    longer = f"set {LOCK_VARIABLE} to wait longer (e.g. 1min; off: no limit)"
    try:
        with lock_waits_named(conn, what, label, lock_ms, LOCK_VARIABLE, longer):
            yield
    except errors.QueryCanceled as error:
        if "statement timeout" not in primary_message(error):
            raise
        raise ReadStopped(
            f"{what} stopped: a statement reading {label} ran longer than "
            f"{shown_ms(STATEMENT_GUARD_MS)}, the limit of a read; is the server overloaded?"
        ) from None


@contextlib.contextmanager
def lock_waits_named(
    conn: psycopg.Connection[Any], what: str, label: str, lock_ms: int, knob: str, longer: str
) -> Iterator[None]:
    """A lock timeout within the block becomes ReadStopped naming the relations locked and
    their holders; `knob` is the setting that gave `lock_ms`, `longer` how to wait longer."""
    try:
        yield
    except errors.LockNotAvailable:
        waited = f"waited {shown_ms(lock_ms)} ({knob}) for a lock on {label}"
        raise ReadStopped(
            f"{what} {waited}: {_holders(conn)}; run it again once that transaction ends, "
            f"or {longer}"
        ) from None


def _holders(conn: psycopg.Connection[Any]) -> str:
    """Who holds ACCESS EXCLUSIVE locks on this database's relations (the only mode a
    read's ACCESS SHARE waits for), one clause each."""
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        rows = conn.execute(catalog_sql("exclusive_lockers")).fetchall()
    except psycopg.Error:
        return "who holds it could not be read"
    if not rows:
        return "the lock is released since"
    return "; ".join(
        f"{relation} is locked ACCESS EXCLUSIVE by {_session(pid, app, user, age, query)}"
        for relation, pid, app, user, age, query in rows
    )


def _session(pid: int | None, app: str, user: str, age: float | None, query: str) -> str:
    if pid is None:
        return "a prepared transaction (see pg_prepared_xacts)"
    opened = (
        "transaction age hidden from this role (grant it pg_read_all_stats)"
        if age is None
        else f"transaction open {age:.0f}s"
    )
    return f"pid {pid} (application {app or '?'!r}, user {user or '?'}, {opened}: {query!r})"

