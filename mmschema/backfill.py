"""Backfills in short batches: key-ordered, each its own transaction under lock_timeout.

A job backfills one table's columns together: each batch's UPDATE sets all of them, so a
row never has one column backfilled and another not (rows written between two separate
backfills would otherwise break invariants between the columns).

A backfill covers the rows there are when it starts: it walks the primary key in
windows up to the greatest key at the start (heap block ranges up to the table's size at
the start without a key, or when a trigger keeps new row versions filled); in each window it updates
the rows that still differ from the backfill expression, skipping rows locked by others,
and notes the windows where it skipped some. Those windows alone are walked once more,
waiting for the locks. Rows inserted later keep the column's default, so the backfill
ends under any insert rate. Because only rows that still differ are touched, an
interrupted backfill simply resumes. The window adapts to keep each batch (and the row
locks writers may wait for) near `TARGET_SECONDS`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.pq import TransactionStatus
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import (
    Progress as RichProgress,
)

from mmschema.blockranges import (
    MAX_BLOCKS,
    MIN_BLOCKS,
    START_BLOCKS,
    WHOLE_PAGE,
    Slice,
    block_batch_query,
    block_spans,
    page_slices,
    relation_blocks,
    tuples_per_page,
)
from mmschema.model import QualifiedName

START_BATCH = 200  # doubled while batches stay short: the first one is never long
MIN_BATCH = 10
MAX_BATCH = 100_000
TARGET_SECONDS = 0.04  # a batch's row locks are what writers updating those rows wait for
FIRST_SLICE_SHARE = 0.3  # of a sliced window's time: its rows all move (not HOT), ~4x a HOT row
DIFFERS = "_mms_differs"  # the window's own column: whether the row still needs the backfill


@dataclass(frozen=True)
class BackfillPart:
    """One column of a backfill: set it to `value` where `where` holds (always without one)."""

    column: str
    value: str
    where: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "value": self.value, "where": self.where}


@dataclass(frozen=True)
class BackfillJob:
    """The backfill of one table's columns; every batch updates a row's columns together."""

    table: QualifiedName
    parts: tuple[BackfillPart, ...]

    @classmethod
    def single(
        cls, table: QualifiedName, column: str, value: str, where: str | None = None
    ) -> BackfillJob:
        return cls(table, (BackfillPart(column, value, where),))

    @property
    def columns(self) -> list[str]:
        return [part.column for part in self.parts]

    @property
    def label(self) -> str:
        if len(self.parts) == 1:
            return f"{self.table}.{self.parts[0].column}"
        return f"{self.table}.({', '.join(self.columns)})"

    def merged(self, other: BackfillJob) -> BackfillJob:
        """This job and other's parts (same table), a column named twice keeping other's."""
        assert other.table == self.table
        replaced = {part.column for part in other.parts}
        kept = tuple(part for part in self.parts if part.column not in replaced)
        return BackfillJob(self.table, kept + other.parts)

    def only(self, columns: set[str]) -> BackfillJob:
        """The parts whose column is in columns."""
        return BackfillJob(self.table, tuple(p for p in self.parts if p.column in columns))

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.table.schema,
            "table": self.table.name,
            "parts": [part.to_json() for part in self.parts],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackfillJob:
        """Reads jobs of any version; before multi-column jobs, one column at the top level."""
        table = QualifiedName(data["schema"], data["table"])
        if "parts" not in data:
            return cls.single(table, data["column"], data["value"], data.get("where"))
        return cls(
            table,
            tuple(BackfillPart(p["column"], p["value"], p.get("where")) for p in data["parts"]),
        )


@dataclass
class BackfillResult:
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    complete: bool = False
    workers: int = 1  # connections that walked it


Progress = Callable[[int, int | None], None]  # rows done so far, estimated total
Notice = Callable[[str], None]


class BackfillFailed(Exception):
    pass


class TerminalProgress:
    """A rich progress bar on stderr, started at the first batch (terminals only)."""

    def __init__(self, console: Console, label: str) -> None:
        self.label = label
        self.bar = RichProgress(
            TextColumn("backfill {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int | None) -> None:
        shown = max(total, done) if total else None
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=shown)
        self.bar.update(self.task, completed=done, total=shown)

    def close(self) -> None:
        if self.task is not None:
            self.bar.stop()


def existing_columns(conn: psycopg.Connection[Any], job: BackfillJob) -> set[str]:
    """Which of the job's columns the table has (none when the table is gone)."""
    rows = conn.execute(
        """SELECT a.attname FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s AND a.attname = ANY(%s)
             AND a.attnum > 0 AND NOT a.attisdropped""",
        (job.table.schema, job.table.name, job.columns),
    ).fetchall()
    return {str(r[0]) for r in rows}


def differs(job: BackfillJob) -> sql.Composable:
    """Rows where any column still differs from its backfill value (within its where)."""
    conditions: list[sql.Composable] = []
    for part in job.parts:
        condition = sql.SQL("{} IS DISTINCT FROM ({})").format(
            sql.Identifier(part.column), sql.SQL(part.value)
        )
        if part.where:
            condition = sql.SQL("({}) AND {}").format(sql.SQL(part.where), condition)
        conditions.append(sql.SQL("({})").format(condition))
    return sql.SQL("({})").format(sql.SQL(" OR ").join(conditions))


def assignments(job: BackfillJob) -> sql.Composable:
    """SET for every column at once; a column outside its where keeps its value."""
    sets: list[sql.Composable] = []
    for part in job.parts:
        target = sql.Identifier(part.column)
        value = sql.SQL("({})").format(sql.SQL(part.value))
        if part.where:
            value = sql.SQL("CASE WHEN {} THEN {} ELSE {} END").format(
                sql.SQL(part.where), value, target
            )
        sets.append(sql.SQL("{} = {}").format(target, value))
    return sql.SQL(", ").join(sets)


def key_columns(conn: psycopg.Connection[Any], table: QualifiedName) -> list[str]:
    """The primary key's columns in order, or [] when the table has none."""
    rows = conn.execute(
        """SELECT a.attname
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
           WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary
           ORDER BY k.ord""",
        (table.schema, table.name),
    ).fetchall()
    return [str(r[0]) for r in rows]


def triggers_enabled(conn: psycopg.Connection[Any], table: QualifiedName, names: list[str]) -> bool:
    """Whether the table has all these triggers, enabled."""
    row = conn.execute(
        """SELECT count(*) FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s AND t.tgname = ANY(%s)
             AND t.tgenabled <> 'D'""",
        (table.schema, table.name, names),
    ).fetchone()
    return bool(row and row[0] == len(set(names)))


def key_update(conn: psycopg.Connection[Any], job: BackfillJob) -> bool:
    """Whether the job sets a column of a unique index: then its UPDATE is a key update
    (its row locks conflict with foreign key checks' FOR KEY SHARE) and batches lock FOR
    UPDATE; otherwise FOR NO KEY UPDATE, so inserts of rows referencing the batch's rows
    do not wait for it."""
    row = conn.execute(
        """SELECT EXISTS (
             SELECT FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
             WHERE i.indrelid = (SELECT c.oid FROM pg_class c
                                 JOIN pg_namespace n ON n.oid = c.relnamespace
                                 WHERE n.nspname = %s AND c.relname = %s)
               AND i.indisunique AND a.attname = ANY(%s))""",
        (job.table.schema, job.table.name, job.columns),
    ).fetchone()
    return bool(row and row[0])


def estimate_to_update(conn: psycopg.Connection[Any], job: BackfillJob) -> int | None:
    """The planner's estimate of the rows the job updates: those of its where clauses when
    every column has one (so the progress bar's total is not the whole table), else all."""
    wheres = [part.where for part in job.parts]
    if not all(wheres):
        return estimate_rows(conn, job.table)
    query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT FROM {} WHERE {}").format(
        sql.Identifier(job.table.schema, job.table.name),
        sql.SQL(" OR ").join(sql.SQL("({})").format(sql.SQL(str(w))) for w in wheres),
    )
    row = conn.execute(query).fetchone()
    rows = int(row[0][0]["Plan"]["Plan Rows"]) if row else 0
    return rows if rows > 0 else None


def estimate_rows(conn: psycopg.Connection[Any], table: QualifiedName) -> int | None:
    row = conn.execute(
        """SELECT c.reltuples::bigint FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s""",
        (table.schema, table.name),
    ).fetchone()
    if row is None or row[0] is None or row[0] <= 0:
        return None
    return int(row[0])


def upper_bound(
    conn: psycopg.Connection[Any], table: QualifiedName, keys: list[str]
) -> tuple[Any, ...] | None:
    """The greatest key when the backfill starts: rows past it are new (None: no rows)."""
    if not keys:
        return None
    key_list = sql.SQL(", ").join(sql.Identifier(k) for k in keys)
    order = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(k)) for k in keys)
    row = conn.execute(
        sql.SQL("SELECT {} FROM {} ORDER BY {} LIMIT 1").format(
            key_list, sql.Identifier(table.schema, table.name), order
        )
    ).fetchone()
    return None if row is None else tuple(row)


def _key_literals(values: tuple[Any, ...]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Literal(v) for v in values)


def batch_query(
    job: BackfillJob,
    keys: list[str],
    after: tuple[Any, ...] | None,
    size: int,
    until: tuple[Any, ...] | None = None,
    skip_locked: bool = True,
    for_key_update: bool = False,
) -> sql.Composed:
    """One batch over the next `size` keys after `after` (up to `until`): lock the rows of
    that window that still differ, update them, and return how many were updated, how
    many differed (without waiting for row locks), how many keys the window held, and its
    last key.

    The window is a key range, so every part of the statement is an index range scan; the
    update finds the locked rows by ctid (tables without a key walk block ranges,
    mmschema/blockranges.py). Values are inlined
    as literals and no parameters are sent, so a `%` in the file's expressions (modulo) is
    never taken for a placeholder.
    """
    key_list = sql.SQL(", ").join(sql.Identifier(k) for k in keys)
    descending = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(k)) for k in keys)
    table = sql.Identifier(job.table.schema, job.table.name)
    lower = (
        sql.SQL("({}) > ({}) AND ").format(key_list, _key_literals(after))
        if after is not None
        else sql.SQL("")
    )
    window = [lower]
    if until is not None:
        window.append(sql.SQL("({}) <= ({}) AND ").format(key_list, _key_literals(until)))
    # The update names no other relation, so the file's expression sees only the table.
    in_range = sql.SQL("{}({}) <= (SELECT {} FROM l)").format(lower, key_list, key_list)
    last = key_list
    strength = "FOR UPDATE" if for_key_update else "FOR NO KEY UPDATE"
    locking = sql.SQL(strength + (" SKIP LOCKED" if skip_locked else ""))
    # Every part sees the statement's one snapshot: the window's rows that differ, counted
    # as the window is read, are those the locking scan finds or skips.
    return sql.SQL(
        "WITH w AS (SELECT {keys}, {condition} AS {differs} FROM {table}"
        " WHERE {window}true ORDER BY {keys} LIMIT {size}),"
        " l AS (SELECT {keys} FROM w ORDER BY {descending} LIMIT 1),"
        " b AS (SELECT ctid FROM {table} WHERE {in_range} AND {condition} {locking}),"
        " u AS (UPDATE {table} SET {sets} WHERE ctid = ANY(ARRAY(SELECT ctid FROM b))"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM u),"
        " (SELECT count(*) FROM w WHERE {differs}),"
        " (SELECT count(*) FROM w), r.* FROM (SELECT 1) AS one"
        " LEFT JOIN (SELECT {last} FROM l) AS r ON true"
    ).format(
        keys=key_list,
        descending=descending,
        table=table,
        window=sql.Composed(window),
        in_range=in_range,
        condition=differs(job),
        differs=sql.Identifier(DIFFERS),
        locking=locking,
        sets=assignments(job),
        last=last,
        size=sql.Literal(size),
    )


@dataclass
class _Walk:
    """Where a backfill stands: the batch size, and the windows that had locked rows."""

    size: int = START_BATCH  # rows, or blocks when walking block ranges
    skipped: list[tuple[tuple[Any, ...] | None, tuple[Any, ...]]] = field(default_factory=list)


Span = tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]  # (after, up to)
Connect = Callable[[], psycopg.Connection[Any]]


def run_backfill(
    conn: psycopg.Connection[Any],
    job: BackfillJob,
    lock_timeout_ms: int,
    retries: int,
    progress: Progress | None = None,
    notice: Notice | None = None,
    max_batches: int | None = None,
    target_seconds: float = TARGET_SECONDS,
    blockers: Callable[[], str] | None = None,
    helpers: Connect | None = None,
    workers: int = 1,
    synced: bool = False,
) -> BackfillResult:
    """Backfill the rows there are when it starts; the connection is autocommit.

    One walk in key order up to the greatest key at the start, skipping rows that other
    sessions hold locked, then a second look at only the windows where rows were skipped,
    waiting for those locks (under lock_timeout). Rows inserted after the start are left
    to the column's default (or a trigger), so the backfill ends whatever the insert rate.

    `synced`: a trigger fills the columns of every row written from now on (an online
    type change's shadow), so the walk goes by heap block ranges up to the table's size
    at the start, as it does for tables without a primary key.

    With `helpers` (a way to open more connections) and a big enough table, `workers`
    connections walk disjoint key or block ranges at once; each batch stays as short.
    """
    keys = key_columns(conn, job.table)
    by_blocks = synced or not keys
    total = estimate_to_update(conn, job)
    result = BackfillResult()
    started = time.monotonic()
    strength = key_update(conn, job)
    # A shadow column is in no index during its backfill: sliced pages make most of its
    # updates HOT (mmschema/blockranges.py).
    slices = page_slices(tuples_per_page(conn, job.table)) if synced else [WHOLE_PAGE]

    def batcher(connection: psycopg.Connection[Any], who: Callable[[], str] | None) -> _Batcher:
        batch = _Batcher(
            connection, job, keys, lock_timeout_ms, retries, notice, who, target_seconds
        )
        batch.for_key_update = strength
        batch.by_blocks = by_blocks
        batch.slices = slices
        return batch

    alone = helpers is None or max_batches is not None or workers < 2

    def walk_spans(spans: list[Span]) -> None:
        if len(spans) == 1 or helpers is None:

            def report() -> None:
                if progress:
                    progress(result.rows, total)

            _walk(batcher(conn, blockers), spans[0], result, report, max_batches)
        else:
            _in_parallel(conn, helpers, spans, batcher, result, progress, total)

    if by_blocks:
        blocks, filenode = relation_blocks(conn, job.table)
        split = block_spans(blocks, 1 if alone else workers)
        walk_spans([((first,), (end,)) for first, end in split])
        for _ in range(3):
            if not result.complete:
                break
            now, node = relation_blocks(conn, job.table)
            if node != filenode:  # rewritten meanwhile (VACUUM FULL, CLUSTER): rows moved
                blocks, filenode = now, node
                result.complete = False
                walk_spans([((0,), (now,))])
            elif now > blocks and not synced:  # rows that updates moved past the walk's end
                span: Span = ((blocks,), (now,))
                blocks, result.complete = now, False
                walk_spans([span])
            else:
                break
    else:
        until = upper_bound(conn, job.table, keys)
        if until is None:  # no rows at all
            result.complete = True
        else:
            whole: list[Span] = [(None, until)]
            walk_spans(whole if alone else key_ranges(conn, job.table, keys, until, workers))
    result.seconds = time.monotonic() - started
    if result.complete and progress:
        progress(result.rows, result.rows)  # done: the bar ends full
    return result


MIN_ROWS_PER_WORKER = 50_000  # below it, another connection's start costs more than it saves


def key_ranges(
    conn: psycopg.Connection[Any],
    table: QualifiedName,
    keys: list[str],
    until: tuple[Any, ...] | None,
    workers: int,
) -> list[Span]:
    """Disjoint spans covering the keys up to `until`: an even split of a single integer
    key's values (the usual serial or identity key), else the one whole span."""
    whole: list[Span] = [(None, until)]
    if until is None or len(keys) != 1 or type(until[0]) is not int:
        return whole
    row = conn.execute(
        sql.SQL("SELECT min({}) FROM {}").format(
            sql.Identifier(keys[0]), sql.Identifier(table.schema, table.name)
        )
    ).fetchone()
    low, high = (row[0] if row else None), until[0]
    if type(low) is not int or high - low < workers * MIN_ROWS_PER_WORKER:
        return whole
    bounds = [low - 1 + (high - low + 1) * i // workers for i in range(workers + 1)]
    return [(None if i == 0 else (bounds[i],), (bounds[i + 1],)) for i in range(workers)]


def _walk(
    batch: _Batcher,
    span: Span,
    result: BackfillResult,
    report: Callable[[], None],
    max_batches: int | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> None:
    """Walk one span in windows, then the windows that had locked rows once more, waiting
    for them; result.complete when it got to the end."""
    walk = _Walk(START_BLOCKS if batch.by_blocks else START_BATCH)
    spans: list[tuple[tuple[Any, ...] | None, tuple[Any, ...] | None, bool]] = [
        (span[0], span[1], True)
    ]
    while spans:
        after, end, skip_locked = spans.pop(0)
        while True:
            if stopped() or (max_batches is not None and result.batches >= max_batches):
                return
            updated, differed, last, at_end = batch.run(walk, after, end, skip_locked)
            result.batches += 1
            result.rows += updated
            report()
            if skip_locked and differed > updated and last is not None:
                walk.skipped.append((after, last))
            if at_end:
                break  # the window reached the end of the span
            after = last
        if not spans and walk.skipped:
            spans = [(lo, hi, False) for lo, hi in walk.skipped]
            walk.skipped = []
    result.complete = True


def _helper(conn: psycopg.Connection[Any], helpers: Connect) -> psycopg.Connection[Any]:
    """Another connection, with the session settings the statements rely on."""
    extra = helpers()
    for name in ("statement_timeout", "search_path"):
        row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
        extra.execute("SELECT set_config(%s, %s, false)", (name, row[0] if row else ""))
    return extra


def _in_parallel(
    conn: psycopg.Connection[Any],
    helpers: Connect,
    spans: list[Span],
    batcher: Callable[[psycopg.Connection[Any], Callable[[], str] | None], _Batcher],
    result: BackfillResult,
    progress: Progress | None,
    total: int | None,
) -> None:
    """One thread per span, each on its own connection (the first on conn); this thread
    reports progress and, on Ctrl-C or a walker's error, cancels and waits for them all."""
    extra: list[psycopg.Connection[Any]] = []
    try:
        extra.extend(_helper(conn, helpers) for _ in spans[1:])
        connections = [conn, *extra]
        stop = threading.Event()
        parts = [BackfillResult() for _ in spans]
        failures: list[BaseException] = []

        def work(number: int) -> None:
            try:
                batch = batcher(connections[number], None)
                _walk(batch, spans[number], parts[number], lambda: None, stopped=stop.is_set)
            except BaseException as error:  # re-raised in the calling thread
                failures.append(error)
                stop.set()

        threads = [
            threading.Thread(target=work, args=(n,), daemon=True, name=f"backfill-{n}")
            for n in range(len(spans))
        ]
        for thread in threads:
            thread.start()
        try:
            while any(thread.is_alive() for thread in threads):
                next((t for t in threads if t.is_alive()), threads[0]).join(0.2)
                if progress:
                    progress(sum(p.rows for p in parts), total)
        except BaseException:
            stop.set()
            for connection in connections:
                with contextlib.suppress(psycopg.Error):
                    connection.cancel()
            for thread in threads:
                thread.join()
            raise
        result.rows += sum(p.rows for p in parts)
        result.batches += sum(p.batches for p in parts)
        result.workers = len(spans)
        if failures:
            raise failures[0]
        result.complete = all(p.complete for p in parts)
    finally:
        for connection in extra:
            with contextlib.suppress(psycopg.Error):
                connection.close()


class _Batcher:
    """Runs one batch in its own transaction, retrying lock timeouts, sizing by time."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        job: BackfillJob,
        keys: list[str],
        lock_timeout_ms: int,
        retries: int,
        notice: Notice | None,
        blockers: Callable[[], str] | None,
        target_seconds: float,
    ) -> None:
        self.conn = conn
        self.job = job
        self.keys = keys
        self.lock_timeout_ms = lock_timeout_ms
        self.retries = retries
        self.notice = notice
        self.blockers = blockers
        self.target_seconds = target_seconds
        self.rows_done = 0
        self.for_key_update = False
        self.by_blocks = False
        self.slices: list[Slice] = [WHOLE_PAGE]

    def _query(
        self, size: int, after: tuple[Any, ...] | None, until: tuple[Any, ...] | None, skip: bool
    ) -> sql.Composable:
        if not self.by_blocks:
            return batch_query(
                self.job, self.keys, after, size, until, skip, self.for_key_update
            )
        first, end = (after or (0,))[0], (until or (0,))[0]
        return self._block_query(size, first, end, skip, None)

    def _block_query(
        self, size: int, first: int, end: int, skip: bool, offsets: Slice | None
    ) -> sql.Composable:
        strength = "FOR UPDATE" if self.for_key_update else "FOR NO KEY UPDATE"
        locking = strength + (" SKIP LOCKED" if skip else "")
        return block_batch_query(
            self.job.table,
            differs(self.job),
            assignments(self.job),
            first,
            min(first + size, end),
            locking,
            offsets,
        )

    def _one_round_trip(self, query: sql.Composable) -> tuple[Any, ...] | None:
        """The batch as its own transaction, sent as one message (a wait for the server's
        reply costs most on a busy machine): its settings, then the query.

        statement_timeout is the session's: apply sets it for the whole run. A batch's
        commit need not wait for the WAL flush: batches a crash loses still differ, and
        the next apply's backfill redoes them.
        """
        message = sql.SQL(
            "SET LOCAL lock_timeout = {}; SET LOCAL synchronous_commit = off; {}"
        ).format(sql.Literal(f"{self.lock_timeout_ms}ms"), query)
        cursor = self.conn.execute(message)  # no parameters: one simple-query message
        while cursor.nextset():
            pass  # to the query's result, after the two SETs'
        return cursor.fetchone()

    def _attempt(
        self,
        walk: _Walk,
        query: Callable[[], sql.Composable],
        send: Callable[[], tuple[Any, ...] | None] | None = None,
    ) -> tuple[tuple[Any, ...], float]:
        """One batch (its row and seconds), retried on lock timeouts with a smaller size."""
        failures = 0
        while True:
            began = time.monotonic()
            try:
                row = send() if send is not None else self._one_round_trip(query())
            except errors.LockNotAvailable:
                failures += 1
                who = self.blockers() if self.blockers else ""
                blocked_by = f"; blocked by {who}" if who else ""
                if failures > self.retries:
                    raise BackfillFailed(
                        f"backfill {self.job.label}: lock not obtained within "
                        f"{self.lock_timeout_ms} ms after {failures} tries{blocked_by}; "
                        f"{self.rows_done} rows done, run apply again"
                    ) from None
                walk.size = max(MIN_BLOCKS if self.by_blocks else MIN_BATCH, walk.size // 2)
                if self.notice:
                    self.notice(
                        f"backfill {self.job.label}: lock timeout, retry "
                        f"{failures}/{self.retries}{blocked_by}"
                    )
                time.sleep(min(5.0, 0.2 * 2**failures))
                continue
            assert row is not None
            return row, time.monotonic() - began

    def run(
        self,
        walk: _Walk,
        after: tuple[Any, ...] | None,
        until: tuple[Any, ...] | None,
        skip_locked: bool,
    ) -> tuple[int, int, tuple[Any, ...] | None, bool]:
        """(rows updated, rows that differed, the window's last key or end block, whether
        the window reached the span's end)."""
        if self.by_blocks:
            return self._run_blocks(walk, after, until, skip_locked)
        row, elapsed = self._attempt(
            walk, lambda: self._query(walk.size, after, until, skip_locked)
        )
        updated, differed = int(row[0]), int(row[1])
        self.rows_done += updated
        size = walk.size
        seen = int(row[2])
        last = None if row[3] is None else tuple(row[3:])
        self._resize(walk, size, seen >= size, elapsed, MIN_BATCH, MAX_BATCH)
        return updated, differed, last, last is None or seen < size

    def _run_blocks(
        self,
        walk: _Walk,
        after: tuple[Any, ...] | None,
        until: tuple[Any, ...] | None,
        skip_locked: bool,
    ) -> tuple[int, int, tuple[Any, ...] | None, bool]:
        """A window of blocks; sliced, every slice its own transaction, all of them sent in
        one message (a reply waited for per slice costs most on a busy machine). The window
        stays the same for all slices; a lock timeout retries it whole (the slices already
        committed find nothing left) with a smaller next window."""
        first, end = (after or (0,))[0], (until or (0,))[0]
        if len(self.slices) == 1:
            row, elapsed = self._attempt(
                walk, lambda: self._block_query(walk.size, first, end, skip_locked, None)
            )
            rows, size = [row], walk.size
        else:
            size = walk.size
            queries = [
                self._block_query(size, first, end, skip_locked, offsets)
                for offsets in self.slices
            ]
            rows, elapsed = self._attempt_all(walk, queries)
            elapsed *= FIRST_SLICE_SHARE  # the longest slice: what a writer may wait for
        updated = sum(int(row[0]) for row in rows)
        differed = sum(int(row[1]) for row in rows)
        self.rows_done += updated
        seen = min(first + size, end) - first
        self._resize(walk, size, True, elapsed, MIN_BLOCKS, MAX_BLOCKS)
        return updated, differed, (first + seen,), first + size >= end

    def _attempt_all(
        self, walk: _Walk, queries: list[sql.Composable]
    ) -> tuple[list[tuple[Any, ...]], float]:
        """The queries in one message, each in its own transaction, retried whole on lock
        timeouts: their rows and the seconds they took together."""
        one = sql.SQL(
            "BEGIN; SET LOCAL lock_timeout = {}; SET LOCAL synchronous_commit = off; {}; COMMIT"
        )
        message = sql.SQL("; ").join(
            one.format(sql.Literal(f"{self.lock_timeout_ms}ms"), query) for query in queries
        )
        found: list[tuple[Any, ...]] = []

        def send() -> tuple[Any, ...]:
            found.clear()
            try:
                cursor = self.conn.execute(message)  # no parameters: one simple-query message
                while True:
                    if cursor.description is not None:
                        row = cursor.fetchone()
                        assert row is not None
                        found.append(row)
                    if not cursor.nextset():
                        break
            except psycopg.Error:
                if self.conn.info.transaction_status != TransactionStatus.IDLE:
                    self.conn.execute("ROLLBACK")  # the failed slice's transaction block
                raise
            return (0,)

        _, elapsed = self._attempt(walk, lambda: sql.SQL(""), send)
        return list(found), elapsed

    def _resize(
        self, walk: _Walk, size: int, full: bool, elapsed: float, low: int, high: int
    ) -> None:
        """The next window: doubled while batches stay short, shrunk when one was long."""
        if full and elapsed < self.target_seconds / 2:
            walk.size = min(high, size * 2)
        elif elapsed > self.target_seconds * 1.5:
            walk.size = max(low, int(size * self.target_seconds / elapsed))
