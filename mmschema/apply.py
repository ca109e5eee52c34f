"""Runs a plan: one apply at a time, short lock timeouts, retries, CONCURRENTLY alone."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

import psycopg
from rich.console import Console

from mmschema import changes as ch
from mmschema.backfill import (
    BackfillFailed,
    BackfillJob,
    Connect,
    TerminalProgress,
    run_backfill,
    triggers_enabled,
)
from mmschema.connect import server_error
from mmschema.ddl import Statement, transaction_groups
from mmschema.desired.declared import Settings
from mmschema.interrupts import raise_terminated
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables import copy_changes as xc
from mmschema.kinds.tables.indexes import concurrently_built_index, drop_index_concurrently
from mmschema.kinds.tables.online import job_statement, shadow_job
from mmschema.locks import Form
from mmschema.model import QualifiedName
from mmschema.online_names import trigger_name
from mmschema.plan import Plan, PlannedChange
from mmschema.progress import index_build_progress
from mmschema.tablecopy import run_copy
from mmschema.waiting import (
    ApplyFailed,
    Notice,
    cancel_autovacuum,
    describe_blockers,
    run_with_retries,
    set_timeouts,
)
from mmschema.words import count


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
ProgressFactory = Callable[[BackfillJob], TerminalProgress | None]


class Recorder(Protocol):
    """Where each statement's start and end are written (mmschema.history)."""

    def begin(
        self, planned: PlannedChange, statement: Statement, backfill: BackfillJob | None = None
    ) -> int: ...

    def end(self, handle: int, outcome: str, seconds: float, error: str | None = None) -> None: ...

    def progress(self, handle: int, done: int, total: int | None) -> None: ...

    def mark_resumed(self, handle: int) -> None: ...


class NoRecorder:
    def begin(
        self, planned: PlannedChange, statement: Statement, backfill: BackfillJob | None = None
    ) -> int:
        return 0

    def end(self, handle: int, outcome: str, seconds: float, error: str | None = None) -> None:
        pass

    def progress(self, handle: int, done: int, total: int | None) -> None:
        pass

    def mark_resumed(self, handle: int) -> None:
        pass


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while applying, so the run is rolled back and recorded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def apply_plan(
    conn: psycopg.Connection[Any],
    plan: Plan,
    settings: Settings,
    report: Reporter,
    notice: Notice,
    recorder: Recorder | None = None,
    progress: ProgressFactory | None = None,
    helpers: Connect | None = None,
) -> ApplyReport:
    """Run the plan's changes in order; `helpers` opens the extra connections a big
    backfill walks with (settings.backfill_connections), none without it."""
    result = ApplyReport()
    failed = False
    recorder = recorder or NoRecorder()
    backfills = DeferredBackfills(plan.changes)
    try:
        for batch in batches(plan.changes):
            if failed:
                outcomes = [ChangeOutcome(planned, "skipped") for planned in batch]
            elif len(batch) == 1:
                outcomes = [
                    _apply_change(
                        conn, batch[0], settings, notice, recorder, progress, backfills, helpers
                    )
                ]
            else:
                outcomes = _apply_batch(conn, batch, settings, notice, recorder)
            failed = failed or any(o.status == "failed" for o in outcomes)
            for outcome in outcomes:
                result.outcomes.append(outcome)
                report(outcome)
    except KeyboardInterrupt:
        backfills.record_unstarted(recorder, None)  # left running: the run ends interrupted
        raise
    backfills.record_unstarted(recorder, "not run: the apply stopped before it")
    return result


class DeferredBackfills:
    """The backfills of a plan's added columns, one job per table, run together.

    Each table's backfilled columns are filled by one job, started right after the table's
    last ADD COLUMN with a backfill (the plan orders changes by phase: all ADD COLUMNs come
    before index builds). So every batch sets all of a row's new columns at once, and rows
    written meanwhile by the application never end up with some columns backfilled and
    others not. A job whose columns were added but that never started (the apply failed or
    was interrupted in between) is recorded unfinished, so the next apply resumes it.
    """

    def __init__(self, changes: list[PlannedChange]) -> None:
        self.last: dict[QualifiedName, int] = {}
        for planned in changes:
            job = backfill_job(planned)
            if job is not None and not isinstance(planned.change, cc.RetypeBackfill):
                self.last[job.table] = id(planned)
        self.waiting: dict[QualifiedName, tuple[PlannedChange, BackfillJob]] = {}

    def added(self, planned: PlannedChange, job: BackfillJob) -> BackfillJob | None:
        """Note the committed column; the table's whole job when it is the last one."""
        earlier = self.waiting.get(job.table)
        merged = earlier[1].merged(job) if earlier else job
        if self.last.get(job.table) == id(planned):
            self.waiting.pop(job.table, None)
            return merged
        self.waiting[job.table] = (planned, merged)
        return None

    def record_unstarted(self, recorder: Recorder, error: str | None) -> None:
        for planned, job in self.waiting.values():
            handle = recorder.begin(planned, job_statement(job), job)
            if error is not None:
                recorder.end(handle, "failed", 0.0, error)
        self.waiting.clear()


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
    table = tc.table_before(first.change)
    return (
        table is not None
        and table == tc.table_before(second.change)
        and _plain(first)
        and _plain(second)
    )


def _plain(planned: PlannedChange) -> bool:
    """Runs as one transaction of its own: nothing concurrent, alone, or batched after it.
    An online type change's brief steps are not: batched, their ACCESS EXCLUSIVE lock
    would be held across the batch's other statements (a validation's scan, round trips)."""
    return (
        backfill_job(planned) is None
        and not _brief(planned)
        and all(s.transactional and not s.alone for s in planned.statements)
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
    what = f"{len(batch)} changes of {tc.table_before(batch[0].change)}"
    brief = all(_brief(planned) for planned in batch)
    if brief:
        settings = short_waits(settings)
    owners = [(planned, s) for planned in batch for s in planned.statements]
    handles = [recorder.begin(planned, s) for planned, s in owners]
    timings: list[float] = []
    statements = tuple(s for _, s in owners)
    try:
        run = _run_at_once if brief else _run_transaction
        locked = [t for planned in batch for t in _locked(planned.change)]
        run_with_retries(
            conn,
            settings,
            partial(run, conn, statements, settings, timings),
            lambda: None,
            notice,
            what,
            tc.table_before(batch[0].change),
            partial(cancel_autovacuum, conn, list(dict.fromkeys(locked))) if brief else None,
        )
    except ApplyFailed as error:
        _end_all(recorder, handles, str(error))
        return [ChangeOutcome(p, "failed", time.monotonic() - started, str(error)) for p in batch]
    except psycopg.Error as error:
        message = f"{what}: {server_error(error)}"
        _end_all(recorder, handles, message)
        return [ChangeOutcome(p, "failed", time.monotonic() - started, message) for p in batch]
    spent: dict[int, float] = {}
    for handle, (planned, _), seconds in zip(handles, owners, timings, strict=False):
        recorder.end(handle, "succeeded", seconds)
        spent[id(planned)] = spent.get(id(planned), 0.0) + seconds
    return [ChangeOutcome(p, "changed", spent.get(id(p), 0.0)) for p in batch]


def backfill_job(planned: PlannedChange) -> BackfillJob | None:
    """The batched backfill of an added column, run after its transaction commits.

    apply_plan runs it merged with the table's other backfills (see DeferredBackfills).
    """
    change = planned.change
    if isinstance(change, cc.AddColumn) and change.backfill:
        return BackfillJob.single(
            change.table, change.column.name, change.backfill, change.backfill_where
        )
    if isinstance(change, cc.ResumeBackfill):
        return change.job
    if isinstance(change, cc.RetypeBackfill):
        return shadow_job(change)
    return None


def _apply_change(
    conn: psycopg.Connection[Any],
    planned: PlannedChange,
    settings: Settings,
    notice: Notice,
    recorder: Recorder,
    progress: ProgressFactory | None = None,
    backfills: DeferredBackfills | None = None,
    helpers: Connect | None = None,
) -> ChangeOutcome:
    if isinstance(planned.change, xc.CopyFill):
        return _apply_copy(conn, planned, planned.change, settings, notice, recorder, progress)
    started = time.monotonic()
    what = f"{planned.kind} {planned.object}"
    table = tc.table_before(planned.change)
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
            # the short waits only for its transactions: CREATE INDEX CONCURRENTLY waits
            # for older transactions under lock_timeout, and batches for row locks
            brief = group[0].transactional and _brief(planned)
            waits = short_waits(settings) if brief else settings
            if brief:
                attempt = partial(_run_at_once, conn, group, waits, timings)
            elif group[0].transactional:
                attempt = partial(_run_transaction, conn, group, waits, timings)
            else:
                attempt = partial(_run_alone, conn, group[0], waits, timings)
                if group[0].form == Form.CREATE_INDEX_CONCURRENTLY:
                    console = _terminal_console(progress)
                    attempt = partial(_watched, attempt, conn, console, planned.object)
            run_with_retries(
                conn,
                waits,
                attempt,
                partial(_cleanup_failed_build, conn, planned),
                notice,
                what,
                table,
                partial(cancel_autovacuum, conn, _locked(planned.change)) if brief else None,
            )
            for handle, seconds in zip(handles, timings, strict=False):
                recorder.end(handle, "succeeded", seconds)
            handles = []
        if job and backfill_statement:
            if isinstance(planned.change, cc.ResumeBackfill):
                for statement_id in planned.change.statement_ids:
                    recorder.mark_resumed(statement_id)
            alone = isinstance(planned.change, cc.RetypeBackfill)  # before its own steps
            whole = job if alone or backfills is None else backfills.added(planned, job)
            if whole is not None:
                handles = [recorder.begin(planned, job_statement(whole), whole)]
                step = time.monotonic()
                record = partial(recorder.progress, handles[0])
                synced = alone and _synced(conn, planned.change)
                run_job(conn, whole, settings, notice, progress, record, helpers, synced=synced)
                recorder.end(handles[0], "succeeded", time.monotonic() - step)
                handles = []
    except (ApplyFailed, BackfillFailed) as error:
        _end_all(recorder, handles, str(error))
        return ChangeOutcome(planned, "failed", time.monotonic() - started, str(error))
    except psycopg.Error as error:
        message = server_error(error)
        _end_all(recorder, handles, message)
        _cleanup_if_possible(conn, planned)  # best effort: the connection may be gone
        return ChangeOutcome(planned, "failed", time.monotonic() - started, f"{what}: {message}")
    except KeyboardInterrupt:
        # psycopg has cancelled the running statement; drop the INVALID index it left
        _cleanup_if_possible(conn, planned)
        raise
    return ChangeOutcome(planned, "changed", time.monotonic() - started)


def _apply_copy(
    conn: psycopg.Connection[Any],
    planned: PlannedChange,
    change: xc.CopyFill,
    settings: Settings,
    notice: Notice,
    recorder: Recorder,
    progress: ProgressFactory | None,
) -> ChangeOutcome:
    """The batched copy of a copy-and-swap type change, recorded as its one statement."""
    started = time.monotonic()
    handle = recorder.begin(planned, planned.statements[0])
    console = _terminal_console(progress)
    bar = TerminalProgress(console, f"copy {change.table}") if console is not None else None
    recorded = [0.0]

    def report(done: int, total: int | None) -> None:
        if bar is not None:
            bar(done, total)
        if time.monotonic() - recorded[0] >= 1.0:
            recorded[0] = time.monotonic()
            recorder.progress(handle, done, total)

    try:
        result = run_copy(conn, change, settings.lock_timeout_ms, settings.retries, notice, report)
    except (BackfillFailed, psycopg.Error) as error:
        message = str(error) if isinstance(error, BackfillFailed) else server_error(error)
        recorder.end(handle, "failed", time.monotonic() - started, message)
        return ChangeOutcome(planned, "failed", time.monotonic() - started, message)
    finally:
        if bar is not None:
            bar.close()
    recorder.end(handle, "succeeded", time.monotonic() - started)
    notice(
        f"copy {change.table}: {count(result.rows, 'row')} in {count(result.batches, 'batch')},"
        f" {result.seconds:.1f}s"
    )
    return ChangeOutcome(planned, "changed", time.monotonic() - started)


def _brief(planned: PlannedChange) -> bool:
    """Whether the change is an online type change's step that holds its lock only for
    catalog updates: then it waits for its lock briefly, and is retried more, since
    writers queue behind a waiting ACCESS EXCLUSIVE request. (Other steps keep the file's
    lock_timeout and retries: they are the user's stated patience.)"""
    return isinstance(
        planned.change,
        cc.RetypeExpand
        | cc.RetypeSwap
        | cc.RetypeAbandon
        | xc.CopyExpand
        | xc.CopySwap
        | xc.CopyAbandon,
    )


def _locked(change: ch.Change) -> list[QualifiedName]:
    """The tables an online change's brief step locks."""
    if isinstance(change, cc.RetypeSwap | xc.CopySwap):
        return [*change.locked, change.table]
    table = tc.table_before(change)
    return [table] if table is not None else []


def _synced(conn: psycopg.Connection[Any], change: ch.Change) -> bool:
    """Whether the shadow columns' sync triggers are in place: then every row version
    written from now on is filled, and the backfill may walk block ranges."""
    if not isinstance(change, cc.RetypeBackfill):
        return False
    names = [trigger_name(change.table, column) for column, _, _ in change.parts]
    return triggers_enabled(conn, change.table, names)


def _cleanup_if_possible(conn: psycopg.Connection[Any], planned: PlannedChange) -> None:
    """Best effort: a second interrupt or a dead connection leaves it to the next apply."""
    if conn.closed or conn.broken:
        return
    with contextlib.suppress(psycopg.Error):
        _cleanup_failed_build(conn, planned)
    with contextlib.suppress(psycopg.Error):
        _drop_not_null_check(conn, planned)


def _drop_not_null_check(conn: psycopg.Connection[Any], planned: PlannedChange) -> None:
    """A failed online SET NOT NULL (rows with NULL) leaves its NOT VALID check, which would
    refuse NULL in new rows while the column stays nullable: drop it (its last statement)."""
    change = planned.change
    if not isinstance(change, cc.AlterColumnNullability) or change.nullable or not change.online:
        return
    drop = planned.statements[-1]
    if drop.form == Form.DROP_CONSTRAINT:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute(drop.sql.encode())


def _end_all(recorder: Recorder, handles: list[int], error: str) -> None:
    for handle in handles:
        recorder.end(handle, "failed", 0.0, error)


def run_job(
    conn: psycopg.Connection[Any],
    job: BackfillJob,
    settings: Settings,
    notice: Notice,
    progress: ProgressFactory | None = None,
    record: Callable[[int, int | None], None] | None = None,
    helpers: Connect | None = None,
    synced: bool = False,
) -> None:
    """Run the job; its progress goes to the bar (terminals) and, every second, to record.
    `synced`: a trigger fills the job's columns in every row written (a shadow column)."""
    bar = progress(job) if progress else None
    recorded = [0.0]

    def report(done: int, total: int | None) -> None:
        if bar is not None:
            bar(done, total)
        if record is not None and time.monotonic() - recorded[0] >= 1.0:
            recorded[0] = time.monotonic()
            record(done, total)

    try:
        result = run_backfill(
            conn,
            job,
            settings.lock_timeout_ms,
            settings.retries,
            report,
            notice,
            blockers=lambda: "; ".join(describe_blockers(conn, job.table)),
            helpers=helpers,
            workers=settings.backfill_connections,
            synced=synced,
        )
    finally:
        if bar is not None:
            bar.close()
    walkers = f" on {result.workers} connections" if result.workers > 1 else ""
    notice(
        f"backfill {job.label}: {count(result.rows, 'row')} in {count(result.batches, 'batch')}"
        f"{walkers}, {result.seconds:.1f}s"
    )


def _terminal_console(progress: ProgressFactory | None) -> Console | None:
    """The console backfill bars are drawn on; None off a terminal (the factory gives None)."""
    bar = progress(BackfillJob(QualifiedName("", ""), ())) if progress else None
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
        # once, first: no round trips between statements while their locks are held
        set_timeouts(conn, settings, statements[0])
        for statement in statements:
            step = time.monotonic()
            conn.execute(statement.sql.encode())
            timings.append(time.monotonic() - step)


BRIEF_LOCK_TIMEOUT_MS = 100
BRIEF_RETRIES = 30


def short_waits(settings: Settings) -> Settings:
    """For the ACCESS EXCLUSIVE steps of online changes: writers queue behind a waiting
    lock request, so it waits briefly (and is retried, with backoff) instead of long."""
    return replace(
        settings,
        lock_timeout_ms=min(settings.lock_timeout_ms, BRIEF_LOCK_TIMEOUT_MS),
        retries=max(settings.retries, BRIEF_RETRIES),
    )


def _run_at_once(
    conn: psycopg.Connection[Any],
    statements: tuple[Statement, ...],
    settings: Settings,
    timings: list[float],
) -> None:
    """One transaction sent as one query: its locks are held for no round trips."""
    timings.clear()
    step = time.monotonic()
    with conn.transaction():
        set_timeouts(conn, settings, statements[0])
        conn.execute(";\n".join(s.sql for s in statements).encode())
    timings.extend([time.monotonic() - step] + [0.0] * (len(statements) - 1))


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
