"""Work an earlier apply left unfinished, read without writing: shown by plan and drift as
changes with their progress, and finished by the next apply."""

from __future__ import annotations

from typing import Any

import psycopg

from mmschema import history as runlog
from mmschema.backfill import existing_columns
from mmschema.kinds.tables import column_changes as cc
from mmschema.model import QualifiedName
from mmschema.online_names import is_shadow


def unfinished_backfills(conn: psycopg.Connection[Any]) -> list[cc.ResumeBackfill]:
    """Backfills of interrupted runs, merged per table (a later job's column wins), each
    limited to the columns the table still has; none where the history cannot be read."""
    try:
        pending = runlog.pending_backfills(conn)
    except psycopg.Error:
        if not conn.autocommit:
            conn.rollback()
        return []
    merged: dict[QualifiedName, list[runlog.PendingBackfill]] = {}
    for unfinished in pending:
        merged.setdefault(unfinished.job.table, []).append(unfinished)
    result = []
    for group in merged.values():
        job = group[0].job
        for later in group[1:]:
            job = job.merged(later.job)
        # an online type change's backfill is planned again from the catalog (expand.py)
        columns = {c for c in existing_columns(conn, job) if not is_shadow(c)}
        if not columns:
            continue
        result.append(
            cc.ResumeBackfill(
                job.only(columns), tuple(p.statement_id for p in group), describe(group)
            )
        )
    return result


def describe(group: list[runlog.PendingBackfill]) -> str:
    """Where the interrupted backfill stood, e.g. 'run 3 stopped after 12000 of ~50000 rows'."""
    last = group[-1]
    if last.done is None:
        return f"run {last.run_id} stopped before its first progress record"
    total = f" of ~{last.total}" if last.total else ""
    return f"run {last.run_id} stopped after {last.done}{total} rows"
