"""Backfill windows by heap block ranges (TID range scans): for tables without a primary
key, and for shadow columns a trigger keeps in sync (any row version written after the
trigger is already filled, wherever it lands, so the blocks at the start hold all the rest).

A shadow column's backfill walks each window in slices of line pointers (the first few
rows of every page, then the next few, each slice its own transaction). A freshly loaded
page has no room, so the first slice's new row versions go to other pages and into every
index; once that transaction ends, the next slice's scan prunes their dead versions and
its rows' new versions fit on their own page: a HOT update, no index entry (the shadow
column is in no index yet). About three rows in four are updated that way instead of none.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from mmschema.model import QualifiedName

START_BLOCKS = 2  # doubled while batches stay short
MIN_BLOCKS = 1
MAX_BLOCKS = 20_000
MIN_BLOCKS_PER_WORKER = 500  # about 50,000 narrow rows
SLICES = 8  # a slice's old versions make room for about the next slice's new ones
MAX_LINE_POINTER = 65535  # past any page's last line pointer

Slice = tuple[int, int]  # line pointers [first, end) of every page of the window
WHOLE_PAGE: Slice = (0, MAX_LINE_POINTER)


def relation_blocks(conn: psycopg.Connection[Any], table: QualifiedName) -> tuple[int, int]:
    """(the table's heap blocks now, its relfilenode: a rewrite moves every row)."""
    name = sql.Identifier(table.schema, table.name).as_string(conn)
    row = conn.execute(
        "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::bigint,"
        " pg_relation_filenode(%s::regclass)",
        (name, name),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1] or 0)


def block_spans(blocks: int, workers: int) -> list[tuple[int, int]]:
    """[start, end) block spans: one, or an even split when each worker gets enough."""
    if workers < 2 or blocks < workers * MIN_BLOCKS_PER_WORKER:
        return [(0, blocks)]
    bounds = [blocks * i // workers for i in range(workers + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(workers)]


def tuples_per_page(conn: psycopg.Connection[Any], table: QualifiedName) -> int:
    """The planner's rows per heap page (0 when the table was never analyzed)."""
    name = sql.Identifier(table.schema, table.name).as_string(conn)
    row = conn.execute(
        "SELECT CASE WHEN relpages > 0 AND reltuples > 0"
        " THEN ceil(reltuples / relpages)::int ELSE 0 END"
        " FROM pg_class WHERE oid = %s::regclass",
        (name,),
    ).fetchone()
    return int(row[0]) if row else 0


def page_slices(per_page: int, count: int = SLICES) -> list[Slice]:
    """Line pointer slices covering every page: [1, n), [n, 2n), ..., the last to the end;
    the one whole page when pages hold too few rows to slice."""
    step = -(-per_page // count) if per_page >= 2 * count else 0
    if step == 0:
        return [WHOLE_PAGE]
    bounds = [1 + step * i for i in range(count)]
    return [
        (0 if i == 0 else bounds[i], bounds[i + 1] if i + 1 < count else MAX_LINE_POINTER)
        for i in range(count)
    ]


def _tid(block: int) -> sql.Composable:
    return sql.SQL("{}::tid").format(sql.Literal(f"({block},0)"))


def block_batch_query(
    table: QualifiedName,
    differs: sql.Composable,
    sets: sql.Composable,
    first: int,
    end: int,
    locking: str,
    offsets: Slice | None = None,
) -> sql.Composed:
    """One batch over blocks [first, end): lock the rows there that still differ (with
    `locking`, e.g. FOR NO KEY UPDATE SKIP LOCKED), update them by ctid, and return how
    many were updated and how many differed (locked or not), in the statement's snapshot.
    With `offsets`, only the rows at those line pointers of each page."""
    name = sql.Identifier(table.schema, table.name)
    window = sql.SQL("ctid >= {} AND ctid < {}").format(_tid(first), _tid(end))
    if offsets is not None and offsets != WHOLE_PAGE:
        return _slice_query(name, differs, sets, first, end, locking, offsets)
    return sql.SQL(
        "WITH b AS (SELECT ctid FROM {table} WHERE {window} AND {differs} {locking}),"
        " u AS (UPDATE {table} SET {sets} WHERE ctid = ANY(ARRAY(SELECT ctid FROM b))"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM u),"
        " (SELECT count(*) FROM {table} WHERE {window} AND {differs})"
    ).format(table=name, window=window, differs=differs, locking=sql.SQL(locking), sets=sets)


def _slice_query(
    name: sql.Identifier,
    differs: sql.Composable,
    sets: sql.Composable,
    first: int,
    end: int,
    locking: str,
    offsets: Slice,
) -> sql.Composed:
    """block_batch_query over one slice of line pointers: a TID range scan per page (the
    OFFSET 0 keeps the planner from turning them into one scan of the whole table)."""
    low, high = offsets

    def rows(lock: str) -> sql.Composed:
        return sql.SQL(
            "SELECT r.ctid FROM generate_series({first}::bigint, {last}::bigint)"
            " AS _mms_pages(page), LATERAL (SELECT ctid FROM {table}"
            " WHERE ctid >= ('(' || _mms_pages.page || ',{low})')::tid"
            " AND ctid < ('(' || _mms_pages.page || ',{high})')::tid"
            " AND {differs} OFFSET 0 {lock}) AS r"
        ).format(
            first=sql.Literal(first),
            last=sql.Literal(end - 1),
            table=name,
            low=sql.SQL(str(int(low))),
            high=sql.SQL(str(int(high))),
            differs=differs,
            lock=sql.SQL(lock),
        )

    return sql.SQL(
        "WITH b AS ({locked}),"
        " u AS (UPDATE {table} SET {sets} WHERE ctid = ANY(ARRAY(SELECT ctid FROM b))"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM ({seen}) AS s)"
    ).format(locked=rows(locking), table=name, sets=sets, seen=rows(""))
