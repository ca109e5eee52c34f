"""`mmschema drift`: the live database against the file, and against the last apply.

Everything here only reads the target. The history and the list of tables are read with
plain SELECTs; a missing `mmschema` schema or a role that may not read it means "no
history", never an error, so drift works with a read-only role and on a hot standby.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from rich.console import Console

from mmschema import history as runlog
from mmschema.desired.declared import DesiredState
from mmschema.diff import managed_names
from mmschema.plan import Plan, plan_to_json

DRIFT_FORMATS = ["text", "json", "sql", "markdown", "prometheus"]


@dataclass(frozen=True)
class LastApply:
    run: int
    finished_at: datetime | None
    checksum: str
    checksum_matches: bool
    outcome: str = "succeeded"  # or failed, interrupted, abandoned, running
    started_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "checksum": self.checksum,
            "checksum_matches": self.checksum_matches,
        }


@dataclass
class DriftReport:
    plan: Plan
    file_checksum: str
    last_apply: LastApply | None
    unmanaged_tables: list[str] = field(default_factory=list)
    checked_all: bool = False
    # 'file:line:column: ...' lines of a plan refused because of what the database holds
    # (table inheritance): drift found something, though no plan can be shown
    refused: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(
            self.plan.changes or self.plan.unmanaged or self.unmanaged_tables or self.refused
        )

    def to_json(self) -> dict[str, Any]:
        data = plan_to_json(self.plan)
        data["drift"] = self.drifted
        if self.refused:
            data["refused"] = self.refused
        data["file_checksum"] = self.file_checksum
        data["last_apply"] = self.last_apply.to_json() if self.last_apply else None
        if self.checked_all:
            data["unmanaged_tables"] = self.unmanaged_tables
            data["summary"]["unmanaged_tables"] = len(self.unmanaged_tables)
        return data


def last_apply(conn: psycopg.Connection[Any], file_checksum: str) -> LastApply | None:
    """The newest run of mmschema.history whatever its outcome, or None (no run, no table,
    no privilege)."""
    try:
        row = conn.execute(
            """SELECT id, finished_at, file_checksum, outcome, started_at FROM mmschema.history
               ORDER BY id DESC LIMIT 1"""
        ).fetchone()
    except psycopg.Error:
        # undefined schema/table or insufficient privilege: no history to compare with
        if not conn.autocommit:
            conn.rollback()
        return None
    if row is None:
        return None
    return LastApply(
        int(row[0]), row[1], str(row[2]), str(row[2]) == file_checksum, str(row[3]), row[4]
    )


def unmanaged_tables(conn: psycopg.Connection[Any], desired: DesiredState) -> list[str]:
    """Tables in the schemas the file uses (and public) that the file does not name."""
    named = {(n.schema, n.name) for n in managed_names(desired)}
    schemas = sorted({schema for schema, _ in named} | {"public"} - {runlog.SCHEMA})
    rows = conn.execute(
        """SELECT n.nspname, c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
             AND n.nspname = ANY(%s)
           ORDER BY n.nspname, c.relname""",
        (schemas,),
    ).fetchall()
    return [f"{schema}.{name}" for schema, name in rows if (schema, name) not in named]


def show_extra(report: DriftReport, console: Console) -> None:
    def line(text: str) -> None:
        console.print(text, highlight=False, markup=False)

    for name in report.unmanaged_tables:
        line(f"  unmanaged table {name} (not in the file)")
    if report.checked_all:
        line(f"Unmanaged tables: {len(report.unmanaged_tables)}.")
    for refusal in report.refused:
        line(refusal)
    applied = report.last_apply
    if applied is None:
        line("Last apply: none recorded (no readable mmschema.history).")
    else:
        line(f"Last apply: {last_apply_words(applied)}.")
    verdict = "DRIFT" if report.drifted else "in sync"
    if report.refused:
        verdict += " (no plan: the changes above are refused)"
    line(f"Drift: {verdict}.")


def last_apply_words(applied: LastApply) -> str:
    """'run 3 failed, finished 2026-12-07 05:01:02 UTC; the file changed since then'."""

    def stamp(moment: datetime) -> str:
        return f"{moment:%Y-%m-%d %H:%M:%S %Z}".strip()

    if applied.finished_at is not None:
        when = f"finished {stamp(applied.finished_at)}"
    elif applied.started_at is not None:
        when = f"started {stamp(applied.started_at)}"
    else:
        when = "finished ?"
    if applied.outcome == "succeeded":
        same = "the file is the one it applied" if applied.checksum_matches else ""
    else:
        same = "the file is the one it ran" if applied.checksum_matches else ""
    same = same or "the file changed since then"
    return f"run {applied.run} {applied.outcome}, {when}; {same}"
