"""Backfills in short batches: key-ordered, each its own transaction under lock_timeout.

A job backfills one table's columns together: each batch's UPDATE sets all of them, so a
row never has one column backfilled and another not (rows written between two separate
backfills would otherwise break invariants between the columns).

A batch updates the next rows (by primary key, or by ctid without one) that still differ
from the backfill expression, skipping rows locked by others. Batches walk the key in order;
when they run dry, one more pass starts from the beginning to catch skipped rows, and the
backfill ends when such a pass finds nothing. Because only rows that still differ are
touched, an interrupted backfill simply resumes. The batch size adapts to keep each batch
near `target_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, sql
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

from mmschema.model import QualifiedName

START_BATCH = 1000
MIN_BATCH = 10
MAX_BATCH = 100_000


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


def batch_query(
    job: BackfillJob, keys: list[str], after: tuple[Any, ...] | None, size: int
) -> sql.Composed:
    """One batch: pick the next rows that still differ, update them, return count and last key.

    Values are inlined as literals and no parameters are sent, so a `%` in the file's
    expressions (modulo) is never taken for a placeholder.
    """
    use_ctid = not keys
    names = keys or ["ctid"]
    key_list = sql.SQL(", ").join(sql.Identifier(k) for k in names)
    table = sql.Identifier(job.table.schema, job.table.name)
    condition = differs(job)
    if after is not None:
        placeholders = sql.SQL(", ").join(
            sql.SQL("{}::tid").format(sql.Literal(v)) if use_ctid else sql.Literal(v) for v in after
        )
        condition = sql.SQL("({}) > ({}) AND {}").format(key_list, placeholders, condition)
    # The update names no other relation, so the file's expression sees only the table.
    match = (
        sql.SQL("ctid = ANY(ARRAY(SELECT ctid FROM b))")
        if use_ctid
        else sql.SQL("({}) IN (SELECT {} FROM b)").format(key_list, key_list)
    )
    last = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(k)) if use_ctid else sql.Identifier(k)
        for k in names
    )
    return sql.SQL(
        "WITH b AS (SELECT {keys} FROM {table} WHERE {condition}"
        " ORDER BY {keys} LIMIT {size} FOR UPDATE SKIP LOCKED),"
        " u AS (UPDATE {table} SET {sets} WHERE {match} RETURNING 1)"
        " SELECT (SELECT count(*) FROM u), l.* FROM (SELECT 1) AS one"
        " LEFT JOIN (SELECT {last} FROM b ORDER BY {keys} DESC LIMIT 1) AS l ON true"
    ).format(
        keys=key_list,
        table=table,
        condition=condition,
        sets=assignments(job),
        match=match,
        last=last,
        size=sql.Literal(size),
    )


def rows_remain(conn: psycopg.Connection[Any], job: BackfillJob) -> bool:
    """Whether any row still differs from the backfill value (waits for no row locks)."""
    query = sql.SQL("SELECT EXISTS (SELECT FROM {} WHERE {})").format(
        sql.Identifier(job.table.schema, job.table.name), differs(job)
    )
    row = conn.execute(query).fetchone()
    return bool(row and row[0])


def run_backfill(
    conn: psycopg.Connection[Any],
    job: BackfillJob,
    lock_timeout_ms: int,
    retries: int,
    progress: Progress | None = None,
    notice: Notice | None = None,
    max_batches: int | None = None,
    target_seconds: float = 0.5,
    blockers: Callable[[], str] | None = None,
) -> BackfillResult:
    """Update every row that differs from the backfill value; the connection is autocommit."""
    keys = key_columns(conn, job.table)
    total = estimate_rows(conn, job.table)
    result = BackfillResult()
    started = time.monotonic()
    size = START_BATCH
    last: tuple[Any, ...] | None = None
    lock_failures = 0
    stuck = 0
    while True:
        if max_batches is not None and result.batches >= max_batches:
            break
        batch_started = time.monotonic()
        try:
            with conn.transaction():
                conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(
                        sql.Literal(f"{lock_timeout_ms}ms")
                    )
                )
                conn.execute("SET LOCAL statement_timeout = 0")
                row = conn.execute(batch_query(job, keys, last, size)).fetchone()
        except errors.LockNotAvailable:
            lock_failures += 1
            who = blockers() if blockers else ""
            blocked_by = f"; blocked by {who}" if who else ""
            if lock_failures > retries:
                raise BackfillFailed(
                    f"backfill {job.label}: lock not obtained within {lock_timeout_ms} ms "
                    f"after {lock_failures} tries{blocked_by}; {result.rows} rows done, "
                    "run apply again"
                ) from None
            size = max(MIN_BATCH, size // 2)
            if notice:
                notice(
                    f"backfill {job.label}: lock timeout, retry {lock_failures}/{retries}"
                    f"{blocked_by}"
                )
            time.sleep(min(5.0, 0.2 * 2**lock_failures))
            continue
        lock_failures = 0
        elapsed = time.monotonic() - batch_started
        assert row is not None
        count = int(row[0])
        result.batches += 1
        result.rows += count
        if progress:
            progress(result.rows, total)
        if count == 0:
            if last is None:
                # SKIP LOCKED may have passed over rows other sessions hold: look without it.
                if not rows_remain(conn, job):
                    result.complete = True
                    break
                stuck += 1
                if stuck > retries:
                    raise BackfillFailed(
                        f"backfill {job.label}: rows stay locked by other sessions; "
                        f"{result.rows} rows done, run apply again"
                    )
                time.sleep(min(5.0, 0.2 * 2**stuck))
            last = None  # one more pass from the start catches rows skipped as locked
            continue
        stuck = 0
        last = tuple(row[1:])
        if elapsed < target_seconds / 2:
            size = min(MAX_BATCH, size * 2)
        elif elapsed > target_seconds * 1.5:
            size = max(MIN_BATCH, int(size * target_seconds / elapsed))
    result.seconds = time.monotonic() - started
    return result
