"""A plan: the ordered changes with their statements, locks and hazards, and its JSON form."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mmschema import changes as ch
from mmschema.ddl import Statement, statements
from mmschema.hazards import Hazard, hazards
from mmschema.locks import LockLevel
from mmschema.model import Catalog
from mmschema.pipeline.diff import DiffResult

PLAN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class PlannedChange:
    change: ch.Change
    statements: tuple[Statement, ...]
    hazards: tuple[Hazard, ...]

    @property
    def kind(self) -> str:
        return ch.kind_of(self.change)

    @property
    def object(self) -> str:
        return ch.object_of(self.change)

    @property
    def transactional(self) -> bool:
        return all(s.transactional for s in self.statements)

    @property
    def progress(self) -> str | None:
        """How far an earlier apply got with this change (work in flight), if it started."""
        text = getattr(self.change, "progress", None)
        return text if isinstance(text, str) else None

    @property
    def method(self) -> str | None:
        """Why an online type change takes shadow columns rather than a copy, if it says."""
        why = getattr(self.change, "copy_refused", None)
        return f"shadow columns, not a copy into a new table: {why}" if why else None

    @property
    def lock(self) -> LockLevel:
        return max((s.lock for s in self.statements), default=LockLevel.NONE)


@dataclass
class Plan:
    target: str
    live: Catalog = field(repr=False)  # the managed objects as read when planning
    changes: list[PlannedChange] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    pruned: bool = False  # planned with --prune: the unmanaged objects listed stay even so

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.live)

    @property
    def empty(self) -> bool:
        return not self.changes

    def hazard_kinds(self) -> set[str]:
        return {h.kind for c in self.changes for h in c.hazards}


def fingerprint(live: Catalog) -> str:
    """A digest of the managed objects' live state, for refusing stale saved plans."""
    # repr() of the frozen model is exact and much cheaper than a JSON round.
    state: tuple[object, ...] = (
        sorted(live.tables.items(), key=lambda item: item[0]),
        sorted(live.extensions),
        live.types,
        _stable(live.objects),
    )
    if live.unmanaged:  # what --prune drops (and older plans' digests stay the same)
        state = (*state, tuple(u.label for u in live.unmanaged))
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def _stable(value: object) -> object:
    """The value with its sets in a fixed order: a set's repr follows the hash seed (a
    grant's privileges), and the digest must be the same in every process."""
    if isinstance(value, frozenset | set):
        return ("set", *sorted((_stable(item) for item in value), key=repr))
    if isinstance(value, tuple | list):
        return tuple(_stable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted(((repr(k), _stable(v)) for k, v in value.items()), key=repr))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = (_stable(getattr(value, f.name)) for f in dataclasses.fields(value))
        return (type(value).__name__, *fields)
    return value


def make_plan(result: DiffResult, live: Catalog, target: str) -> Plan:
    planned = [
        PlannedChange(change, tuple(statements(change)), tuple(hazards(change)))
        for change in result.changes
    ]
    return Plan(target, live, planned, list(result.unmanaged), result.pruned)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    changes = [
        {
            "kind": c.kind,
            "object": c.object,
            "sql": [s.sql for s in c.statements],
            "statements": [{"form": s.form.name, "sql": s.sql} for s in c.statements],
            "transactional": c.transactional,
            "lock": c.lock.sql_name,
            "hazards": [{"kind": h.kind, "detail": h.detail} for h in c.hazards],
            **({"progress": c.progress} if c.progress else {}),
            **({"method": c.method} if c.method else {}),
        }
        for c in plan.changes
    ]
    hazard_counts: dict[str, int] = {}
    for c in plan.changes:
        for h in c.hazards:
            hazard_counts[h.kind] = hazard_counts.get(h.kind, 0) + 1
    return {
        "version": PLAN_FORMAT_VERSION,
        "target": plan.target,
        "fingerprint": plan.fingerprint,
        "changes": changes,
        "unmanaged": plan.unmanaged,
        "summary": {
            "changes": len(plan.changes),
            "hazards": hazard_counts,
            "unmanaged": len(plan.unmanaged),
        },
    }


def saved_statements(data: dict[str, Any]) -> list[list[tuple[str, str]]]:
    return [
        [(str(s["form"]), str(s["sql"])) for s in change.get("statements", [])]
        for change in data.get("changes", [])
    ]


def stale_reason(saved: dict[str, Any], plan: Plan) -> str | None:
    """Why a saved plan may not run against the database as it is now, or None if it may.

    The fingerprint covers the live managed objects; the statements must then be exactly
    the ones a fresh plan makes, so apply runs what was reviewed and nothing else.
    """
    if saved.get("version") != PLAN_FORMAT_VERSION:
        return (
            f"the saved plan has format version {saved.get('version')!r}, not {PLAN_FORMAT_VERSION}"
        )
    if saved.get("fingerprint") != plan.fingerprint:
        return "the database changed since the plan was made"
    fresh = [[(s.form.name, s.sql) for s in c.statements] for c in plan.changes]
    if saved_statements(saved) != fresh:
        return "the schema file changed since the plan was made"
    return None
