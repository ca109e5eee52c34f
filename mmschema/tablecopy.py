"""The batched copy of an online type change by copy and swap: key-ordered batches, each its
own transaction that also records how far it got (in the copy's comment), sized by time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.pq import TransactionStatus

from mmschema.backfill import TARGET_SECONDS, BackfillFailed
from mmschema.ddl.base import qualified
from mmschema.kinds.tables import copy_changes as xc
from mmschema.kinds.tables.copy_ddl import batch_query, copy_gate, copy_of

START_ROWS = 500
MIN_ROWS = 50
MAX_ROWS = 50_000
BATCH_LOCK_TIMEOUT_MS = 300


@dataclass
class CopyResult:
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0


def _key_types(conn: psycopg.Connection[Any], change: xc.CopyFill) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
        " WHERE a.attrelid = %s::regclass AND a.attname = ANY(%s)",
        (qualified(change.table).as_string(None), list(change.key)),
    ).fetchall()
    types = {str(name): str(kind) for name, kind in rows}
    return [types[k] for k in change.key]


def _recorded(conn: psycopg.Connection[Any], change: xc.CopyFill) -> dict[str, list[str]]:
    """How far an earlier apply got: {"after": last key copied, "through": last key to copy}."""
    copy = qualified(copy_of(change.table, change.copy)).as_string(None)
    row = conn.execute("SELECT obj_description(%s::regclass, 'pg_class')", (copy,)).fetchone()
    try:
        found = json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _last_key(conn: psycopg.Connection[Any], change: xc.CopyFill) -> list[str] | None:
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in change.key)
    # qualified: the text outputs are named as the key columns, and ORDER BY prefers those
    desc = sql.SQL(", ").join(sql.SQL("t.{} DESC").format(sql.Identifier(k)) for k in change.key)
    texts = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in change.key)
    del keys
    row = conn.execute(
        sql.SQL("SELECT {} FROM {} AS t ORDER BY {} LIMIT 1").format(
            texts, qualified(change.table), desc
        )
    ).fetchone()
    return [str(v) for v in row] if row else None


def _params(name: str, values: list[str]) -> dict[str, str]:
    return {f"{name}{i}": v for i, v in enumerate(values)}


def _one_message(conn: psycopg.Connection[Any], message: sql.Composed) -> tuple[Any, ...] | None:
    """Send the statements as one simple-query message; the last result's row, if any."""
    last: list[tuple[Any, ...]] = []
    try:
        cursor = conn.execute(message)  # no parameters: one simple-query message
        while True:
            if cursor.description is not None:
                last = cursor.fetchall()
            if not cursor.nextset():
                break
    except psycopg.Error:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")  # the failed batch's transaction block
        raise
    return last[0] if last else None


def run_copy(
    conn: psycopg.Connection[Any],
    change: xc.CopyFill,
    lock_timeout_ms: int,
    retries: int,
    notice: Callable[[str], None],
    report: Callable[[int, int | None], None],
) -> CopyResult:
    """Copy the rows up to the last key there was when the trigger went in; the trigger keeps
    every row written since. Batches record how far they got, so the next apply goes on."""
    result = CopyResult()
    started = time.monotonic()
    types = _key_types(conn, change)
    recorded = _recorded(conn, change)
    # the expand recorded the last key (none: the table was empty, the trigger copies all)
    through = recorded["through"] if "through" in recorded else _last_key(conn, change)
    after = recorded.get("after")
    estimate = conn.execute(
        "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
        (qualified(change.table).as_string(None),),
    ).fetchone()
    total = int(estimate[0]) if estimate and estimate[0] else None
    size = START_ROWS
    failures = 0
    copy = qualified(copy_of(change.table, change.copy))
    # Each batch is one message (BEGIN ... COMMIT): the gate is never held across a round
    # trip to this process. Its commit need not wait for the WAL flush. Its COMMENT records
    # how far the batches before it got: a batch done again after a crash meets its own
    # rows, and runs as conflicts. A short lock_timeout: a writer holding the shared gate
    # in a long transaction makes the batch give way and retry.
    waits = min(lock_timeout_ms, BATCH_LOCK_TIMEOUT_MS)
    retries = max(retries, 20)  # each wait is short
    # row_security off: were row level security to hide rows from this role (the plan
    # makes sure it does not), the batch fails rather than leaves them out
    begin = sql.SQL(
        "BEGIN; SET LOCAL lock_timeout = {}; SET LOCAL synchronous_commit = off;"
        " SET LOCAL row_security = off; SELECT {}"
    ).format(sql.Literal(f"{waits}ms"), copy_gate(change.table, change.copy, ""))
    conflicts = False
    while through is not None:
        query = batch_query(change, types, after, through, size, conflicts)
        progress = json.dumps({"after": after, "through": through})
        message = sql.SQL("{}; COMMENT ON TABLE {} IS {}; {}; COMMIT").format(
            begin, copy, sql.Literal(progress), query
        )
        began = time.monotonic()
        try:
            row = _one_message(conn, message)
        except errors.UniqueViolation:
            conflicts = True  # rows the trigger (or a lost batch) put there: kept
            continue
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            failures += 1
            if failures > retries:
                raise BackfillFailed(
                    f"copy of {change.table}: lock not obtained within {waits} ms "
                    f"after {failures} tries; {result.rows} rows done, run apply again"
                ) from None
            size = max(MIN_ROWS, size // 2)
            notice(f"copy of {change.table}: lock timeout, retry {failures}/{retries}")
            time.sleep(min(5.0, 0.2 * 2**failures))
            continue
        if row is None:
            break
        count, *last = row
        after = [str(v) for v in last]
        failures = 0
        conflicts = False
        elapsed = max(time.monotonic() - began, 1e-4)
        result.rows += int(count)
        result.batches += 1
        report(result.rows, total)
        scaled = int(size * TARGET_SECONDS / elapsed)
        size = max(MIN_ROWS, min(MAX_ROWS, size * 2, max(size // 2, scaled)))
    result.seconds = time.monotonic() - started
    return result
