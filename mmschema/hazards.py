"""Which risks a change carries (destructive, rewrite, blocking, may_fail, long_running):
each kind registers its changes' (the table family's in mmschema/kinds/tables/)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from mmschema import changes as ch
from mmschema.hazard_kinds import HAZARD_KINDS

__all__ = ["HAZARD_KINDS", "Hazard", "hazards"]


@dataclass(frozen=True)
class Hazard:
    kind: str
    detail: str


@singledispatch
def hazards(change: object) -> list[Hazard]:
    return []


def cascade_note(cascade: tuple[str, ...]) -> str:
    """What DROP ... CASCADE takes too, named so that the reviewer sees it."""
    return f"; also drops what depends on it: {', '.join(cascade)}" if cascade else ""


@hazards.register
def _(change: ch.DropEnum) -> list[Hazard]:
    return [Hazard("destructive", f"drops enum type {change.name}")]


@hazards.register
def _(change: ch.RebuildEnum) -> list[Hazard]:
    gone = f"drops label {', '.join(change.dropped)} of " if change.dropped else "reorders "
    detail = f"{gone}enum type {change.name} (nothing uses it): DROP TYPE and CREATE TYPE"
    return [Hazard("destructive", detail)]
