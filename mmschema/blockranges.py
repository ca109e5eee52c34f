"""Backfill windows by heap block ranges (TID range scans): for tables without a primary
key, and for shadow columns a trigger keeps in sync (any row version written after the
trigger is already filled, wherever it lands, so the blocks at the start hold all the rest)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from mmschema.model import QualifiedName

START_BLOCKS = 2  # doubled while batches stay short
MIN_BLOCKS = 1
MAX_BLOCKS = 20_000
MIN_BLOCKS_PER_WORKER = 500  # about 50,000 narrow rows


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


def _tid(block: int) -> sql.Composable:
    return sql.SQL("{}::tid").format(sql.Literal(f"({block},0)"))


def block_batch_query(
    table: QualifiedName,
    differs: sql.Composable,
    sets: sql.Composable,
    first: int,
    end: int,
    locking: str,
) -> sql.Composed:
    """One batch over blocks [first, end): lock the rows there that still differ (with
    `locking`, e.g. FOR NO KEY UPDATE SKIP LOCKED), update them by ctid, and return how
    many were updated and how many differed (locked or not), in the statement's snapshot."""
    name = sql.Identifier(table.schema, table.name)
    window = sql.SQL("ctid >= {} AND ctid < {}").format(_tid(first), _tid(end))
    return sql.SQL(
        "WITH b AS (SELECT ctid FROM {table} WHERE {window} AND {differs} {locking}),"
        " u AS (UPDATE {table} SET {sets} WHERE ctid = ANY(ARRAY(SELECT ctid FROM b))"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM u),"
        " (SELECT count(*) FROM {table} WHERE {window} AND {differs})"
    ).format(table=name, window=window, differs=differs, locking=sql.SQL(locking), sets=sets)
