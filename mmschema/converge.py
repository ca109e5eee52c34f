"""A schema file applied in-process to a database mmschema made itself, every hazard allowed."""

from __future__ import annotations

from pathlib import Path

import psycopg

from mmschema import waiting
from mmschema.apply import apply_plan
from mmschema.connect import connect, primary_message
from mmschema.desired.declared import InvalidFile
from mmschema.desired.load import load_desired
from mmschema.normalize import NormalizeCache, Scratch
from mmschema.planner import compute_plan


class ConvergeFailed(Exception):
    """The file could not be applied, or planning again still finds changes: one line."""


def converge(file: Path, dsn: str, scratch: Scratch, cache: NormalizeCache) -> None:
    """Plan the file (or folder of files) against `dsn`, run the plan, and plan again.

    What `plan --from` and a rehearsal build their states with: a temporary database of
    theirs, so no apply lock, prompt, hazard check or history run is needed.
    """
    try:
        desired = load_desired(file)
        with connect(dsn, "mmschema-apply") as conn:
            waiting.set_timeouts(conn, desired.settings)
            plan = compute_plan(conn, desired, scratch, cache, "copy").plan
            report = apply_plan(conn, plan, desired.settings, lambda _: None, lambda _: None)
            failed = [o for o in report.outcomes if o.status == "failed"]
            if failed:
                first = failed[0]
                raise ConvergeFailed(f"{first.change.kind} {first.change.object}: {first.error}")
            again = compute_plan(conn, desired, scratch, cache, "copy").plan
    except InvalidFile as invalid:
        raise ConvergeFailed(invalid.errors[-1] if invalid.errors else "invalid file") from None
    except psycopg.Error as error:
        raise ConvergeFailed(f"database error: {primary_message(error)}") from None
    if not again.empty:
        pending = ", ".join(f"{c.kind} {c.object}" for c in again.changes)
        raise ConvergeFailed(f"the database did not converge; still pending: {pending}")
