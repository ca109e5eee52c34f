"""Runs a plan: one apply at a time, short lock timeouts, retries, CONCURRENTLY alone."""

from __future__ import annotations

import contextlib
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import psycopg
from psycopg import errors, sql
from rich.console import Console

from mmschema import changes as ch
from mmschema.backfill import BackfillFailed, BackfillJob, TerminalProgress, run_backfill
from mmschema.ddl import (
    Statement,
    concurrently_built_index,
    drop_index_concurrently,
    transaction_groups,
)
from mmschema.desired.declared import Settings
from mmschema.locks import Form
from mmschema.model import QualifiedName
from mmschema.plan import Plan, PlannedChange
from mmschema.progress import index_build_progress

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
ProgressFactory = Callable[[BackfillJob], TerminalProgress | None]


class Recorder(Protocol):
    """Where each statement's start and end are written (mmschema.history)."""

    def begin(
        self, planned: PlannedChange, statement: Statement, backfill: BackfillJob | None = None
    ) -> int: ...

    def end(self, handle: int, outcome: str, seconds: float, error: str | None = None) -> None: ...


class NoRecorder:
    def begin(
        self, planned: PlannedChange, statement: Statement, backfill: BackfillJob | None = None
    ) -> int:
        return 0

    def end(self, handle: int, outcome: str, seconds: float, error: str | None = None) -> None:
        pass


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C (so every handler of KeyboardInterrupt runs); exit 143."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while applying, so the run is rolled back and recorded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    table: QualifiedName | None = None,
) -> None:
    """Run attempt(); on a lock timeout, clean up, say who blocks, back off, and try again."""
    for tries in range(settings.retries + 1):
        try:
            attempt()
            return
        except errors.LockNotAvailable:
            cleanup()
            blockers = describe_blockers(conn, table) if table else []
            blocked_by = f"; blocked by {'; '.join(blockers)}" if blockers else ""
            if tries == settings.retries:
                raise ApplyFailed(
                    f"{what}: lock not obtained within {settings.lock_timeout_ms} ms after "
                    f"{settings.retries + 1} tries{blocked_by}; every earlier change is "
                    "committed, run apply again when the blocking sessions are done"
                ) from None
            delay = min(30.0, 0.2 * 2**tries) * (0.5 + random.random())
            notice(
                f"{what}: lock timeout, retry {tries + 1}/{settings.retries} in {delay:.1f}s"
                f"{blocked_by}"
            )
            time.sleep(delay)


def describe_blockers(conn: psycopg.Connection[Any], table: QualifiedName) -> list[str]:
    """Other sessions holding or awaiting locks on the table, one line each.

    Our own wait is over by the time we ask (pg_blocking_pids is empty), so look at who
    holds locks on the target table instead.
    """
    try:
        rows = conn.execute(
            """SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, '?'),
                      coalesce(extract(epoch FROM clock_timestamp() - a.xact_start), 0),
                      left(regexp_replace(coalesce(a.query, ''), '[[:space:]]+', ' ', 'g'), 80),
                      string_agg(DISTINCT l.mode, ',')
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'relation' AND l.granted
                 AND l.relation = to_regclass(%s) AND l.pid <> pg_backend_pid()
               GROUP BY 1, 2, 3, 4, 5 ORDER BY 4 DESC LIMIT 5""",
            (sql.Identifier(table.schema, table.name).as_string(conn),),
        ).fetchall()
    except psycopg.Error:
        return []
    return [
        f"pid {pid} ({app or 'no application_name'}, {state}, transaction open {age:.1f}s, "
        f"holds {modes}: {query!r})"
        for pid, app, state, age, query, modes in rows
    ]


def apply_plan(
    conn: psycopg.Connection[Any],
    plan: Plan,
    settings: Settings,
    report: Reporter,
    notice: Notice,
    recorder: Recorder | None = None,
    progress: ProgressFactory | None = None,
) -> ApplyReport:
    result = ApplyReport()
    failed = False
    for batch in batches(plan.changes):
        if failed:
            outcomes = [ChangeOutcome(planned, "skipped") for planned in batch]
        elif len(batch) == 1:
            outcomes = [
                _apply_change(conn, batch[0], settings, notice, recorder or NoRecorder(), progress)
            ]
        else:
            outcomes = _apply_batch(conn, batch, settings, notice, recorder or NoRecorder())
        failed = failed or any(o.status == "failed" for o in outcomes)
        for outcome in outcomes:
            result.outcomes.append(outcome)
            report(outcome)
    return result


def batches(changes: list[PlannedChange]) -> list[list[PlannedChange]]:
    """Consecutive plain transactional changes of one table, which commit together."""
    result: list[list[PlannedChange]] = []
    for planned in changes:
        previous = result[-1][-1] if result else None
        if previous is not None and _joinable(previous, planned):
            result[-1].append(planned)
        else:
            result.append([planned])
    return result


def _joinable(first: PlannedChange, second: PlannedChange) -> bool:
    table = _table_of(first)
    return table is not None and table == _table_of(second) and _plain(first) and _plain(second)


def _plain(planned: PlannedChange) -> bool:
    """Runs as one transaction of its own: nothing concurrent, alone, or batched after it."""
    return backfill_job(planned) is None and all(
        s.transactional and not s.alone for s in planned.statements
    )


def _apply_batch(
    conn: psycopg.Connection[Any],
    batch: list[PlannedChange],
    settings: Settings,
    notice: Notice,
    recorder: Recorder,
) -> list[ChangeOutcome]:
    """Several changes of one table in one transaction: all done, or none."""
    started = time.monotonic()
    what = f"{len(batch)} changes of {_table_of(batch[0])}"
    owners = [(planned, s) for planned in batch for s in planned.statements]
    handles = [recorder.begin(planned, s) for planned, s in owners]
    timings: list[float] = []
    statements = tuple(s for _, s in owners)
    try:
        run_with_retries(
            conn,
            settings,
            partial(_run_transaction, conn, statements, settings, timings),
            lambda: None,
            notice,
            what,
            _table_of(batch[0]),
        )
    except ApplyFailed as error:
        _end_all(recorder, handles, str(error))
        return [ChangeOutcome(p, "failed", time.monotonic() - started, str(error)) for p in batch]
    except psycopg.Error as error:
        message = f"{what}: {error.diag.message_primary or str(error).strip()}"
        _end_all(recorder, handles, message)
        return [ChangeOutcome(p, "failed", time.monotonic() - started, message) for p in batch]
    spent: dict[int, float] = {}
    for handle, (planned, _), seconds in zip(handles, owners, timings, strict=False):
        recorder.end(handle, "succeeded", seconds)
        spent[id(planned)] = spent.get(id(planned), 0.0) + seconds
    return [ChangeOutcome(p, "changed", spent.get(id(p), 0.0)) for p in batch]


def backfill_job(planned: PlannedChange) -> BackfillJob | None:
    """The batched backfill of an added column, run after its transaction commits."""
    change = planned.change
    if isinstance(change, ch.AddColumn) and change.backfill:
        return BackfillJob(change.table, change.column.name, change.backfill, change.backfill_where)
    return None


def _table_of(planned: PlannedChange) -> QualifiedName | None:
    table = getattr(planned.change, "table", None)
    if isinstance(table, QualifiedName):
        return table
    old = getattr(planned.change, "old", None)
    return old if isinstance(old, QualifiedName) else None


def _apply_change(
    conn: psycopg.Connection[Any],
    planned: PlannedChange,
    settings: Settings,
    notice: Notice,
    recorder: Recorder,
    progress: ProgressFactory | None = None,
) -> ChangeOutcome:
    started = time.monotonic()
    what = f"{planned.kind} {planned.object}"
    table = _table_of(planned)
    job = backfill_job(planned)
    statements = planned.statements
    backfill_statement = None
    if job and statements and statements[-1].form == Form.BACKFILL:
        statements, backfill_statement = statements[:-1], statements[-1]
    handles: list[int] = []
    try:
        for group in transaction_groups(statements):
            handles = [recorder.begin(planned, s) for s in group]
            timings: list[float] = []
            if group[0].transactional:
                attempt = partial(_run_transaction, conn, group, settings, timings)
            else:
                attempt = partial(_run_alone, conn, group[0], settings, timings)
                if group[0].form == Form.CREATE_INDEX_CONCURRENTLY:
                    console = _terminal_console(progress)
                    attempt = partial(_watched, attempt, conn, console, planned.object)
            run_with_retries(
                conn,
                settings,
                attempt,
                partial(_cleanup_failed_build, conn, planned),
                notice,
                what,
                table,
            )
            for handle, seconds in zip(handles, timings, strict=False):
                recorder.end(handle, "succeeded", seconds)
            handles = []
        if job and backfill_statement:
            handles = [recorder.begin(planned, backfill_statement, job)]
            step = time.monotonic()
            run_job(conn, job, settings, notice, progress)
            recorder.end(handles[0], "succeeded", time.monotonic() - step)
            handles = []
    except (ApplyFailed, BackfillFailed) as error:
        _end_all(recorder, handles, str(error))
        return ChangeOutcome(planned, "failed", time.monotonic() - started, str(error))
    except psycopg.Error as error:
        message = error.diag.message_primary or str(error).strip()
        _end_all(recorder, handles, message)
        if not conn.broken:
            _cleanup_failed_build(conn, planned)
        return ChangeOutcome(planned, "failed", time.monotonic() - started, f"{what}: {message}")
    except KeyboardInterrupt:
        # psycopg has cancelled the running statement; drop the INVALID index it left
        _cleanup_after_interrupt(conn, planned)
        raise
    return ChangeOutcome(planned, "changed", time.monotonic() - started)


def _cleanup_after_interrupt(conn: psycopg.Connection[Any], planned: PlannedChange) -> None:
    """Best effort: a second interrupt or a dead connection leaves it to the next apply."""
    if conn.closed or conn.broken:
        return
    with contextlib.suppress(psycopg.Error):
        _cleanup_failed_build(conn, planned)


def _end_all(recorder: Recorder, handles: list[int], error: str) -> None:
    for handle in handles:
        recorder.end(handle, "failed", 0.0, error)


def run_job(
    conn: psycopg.Connection[Any],
    job: BackfillJob,
    settings: Settings,
    notice: Notice,
    progress: ProgressFactory | None = None,
) -> None:
    bar = progress(job) if progress else None
    try:
        result = run_backfill(
            conn,
            job,
            settings.lock_timeout_ms,
            settings.retries,
            bar,
            notice,
            blockers=lambda: "; ".join(describe_blockers(conn, job.table)),
        )
    finally:
        if bar is not None:
            bar.close()
    notice(
        f"backfill {job.label}: {result.rows} rows in {result.batches} batches, "
        f"{result.seconds:.1f}s"
    )


def _terminal_console(progress: ProgressFactory | None) -> Console | None:
    """The console backfill bars are drawn on; None off a terminal (the factory gives None)."""
    bar = progress(BackfillJob(QualifiedName("", ""), "", "")) if progress else None
    return bar.bar.console if bar is not None else None


def _watched(
    attempt: Callable[[], None], conn: psycopg.Connection[Any], console: Console | None, what: str
) -> None:
    """Run attempt() showing pg_stat_progress_create_index on the console (if any)."""
    with index_build_progress(conn, console, what):
        attempt()


def _run_transaction(
    conn: psycopg.Connection[Any],
    statements: tuple[Statement, ...],
    settings: Settings,
    timings: list[float],
) -> None:
    timings.clear()
    with conn.transaction():
        for statement in statements:
            step = time.monotonic()
            set_timeouts(conn, settings, statement)
            conn.execute(statement.sql.encode())
            timings.append(time.monotonic() - step)


def _run_alone(
    conn: psycopg.Connection[Any], statement: Statement, settings: Settings, timings: list[float]
) -> None:
    timings.clear()
    step = time.monotonic()
    set_timeouts(conn, settings, statement)
    conn.execute(statement.sql.encode())
    timings.append(time.monotonic() - step)


def _cleanup_failed_build(conn: psycopg.Connection[Any], planned: PlannedChange) -> None:
    """A failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it at once."""
    built = concurrently_built_index(planned.change)
    for table, name in [built] if built else []:
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
