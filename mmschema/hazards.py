"""Which risks each change carries: destructive, rewrite, blocking, may_fail, long_running."""

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


@hazards.register
def _(change: ch.DropTable) -> list[Hazard]:
    detail = f"drops table {change.table} and all its rows{_also(change.cascade)}"
    return [Hazard("destructive", detail)]


def _also(cascade: tuple[str, ...]) -> str:
    """What DROP ... CASCADE takes too, named so that the reviewer sees it."""
    return f"; also drops what depends on it: {', '.join(cascade)}" if cascade else ""


@hazards.register
def _(change: ch.ReplaceTable) -> list[Hazard]:
    detail = (
        f"drops table {change.table.name} with all its rows and partitions, and creates it "
        "again: its partitioning cannot be altered in place"
    )
    return [Hazard("destructive", detail)]


@hazards.register
def _(change: ch.AttachPartition) -> list[Hazard]:
    detail = (
        f"attaching {change.table} scans it under an ACCESS EXCLUSIVE lock to check its rows "
        "against the bound"
    )
    return [Hazard("blocking", detail)]


@hazards.register
def _(change: ch.SetTableOption) -> list[Hazard]:
    if change.option != "unlogged":
        return []
    detail = (
        f"SET {'UNLOGGED' if change.value == 'true' else 'LOGGED'} rewrites {change.table} "
        "under an ACCESS EXCLUSIVE lock"
    )
    return [Hazard("rewrite", detail)]


@hazards.register
def _(change: ch.AddExclusion) -> list[Hazard]:
    if change.new_table:
        return []
    detail = (
        f"adding exclusion constraint {change.exclusion.name} builds its index under an "
        f"ACCESS EXCLUSIVE lock on {change.table}; reads and writes wait"
    )
    return [Hazard("blocking", detail)]


@hazards.register
def _(change: ch.DropEnum) -> list[Hazard]:
    return [Hazard("destructive", f"drops enum type {change.name}")]


@hazards.register
def _(change: ch.DropColumn) -> list[Hazard]:
    detail = f"drops column {change.column} and its data{_also(change.cascade)}"
    return [Hazard("destructive", detail)]


@hazards.register
def _(change: ch.AlterColumnType) -> list[Hazard]:
    what = f"{change.column} from {change.old_type} to {change.new_type}"
    if change.old_type == change.new_type and change.using is None:
        detail = (
            f"changing the collation of {change.column} rebuilds its indexes "
            "under an ACCESS EXCLUSIVE lock"
        )
        return [Hazard("blocking", detail)]
    if change.cast == "binary-coercible" and change.using is None:
        return []
    refused = f" (not online: {change.online_refused})" if change.online_refused else ""
    rewrite = Hazard(
        "rewrite",
        f"changing {what} rewrites the table and its indexes under an ACCESS EXCLUSIVE "
        f"lock{refused}",
    )
    if change.cast == "lossy":
        loss = f"changing {what} can round, truncate or reject existing values"
        return [rewrite, Hazard("destructive", loss)]
    if change.cast == "no implicit cast":
        detail = f"{rewrite.detail}; no implicit cast, converted USING {change.using}"
        return [Hazard("rewrite", detail)]
    return [rewrite]


@hazards.register
def _(change: ch.RetypeUnderGenerated) -> list[Hazard]:
    names = ", ".join(c.name for c in change.generated)
    found = [h for retype in change.retypes for h in hazards(retype)]
    return [*found, Hazard("rewrite", f"generated columns {names} are dropped and added again")]


@hazards.register
def _(change: ch.AddColumn) -> list[Hazard]:
    if not change.rewrites:
        return []
    column = change.column
    why = (
        "a STORED generated column"
        if column.generated
        else f"its default {column.default} is volatile"
        if column.default
        else f"a {column.type} column's sequence default is volatile"
    )
    detail = (
        f"adding {column.name} rewrites {change.table} under an ACCESS EXCLUSIVE lock: {why}, "
        "computed for every existing row"
    )
    return [Hazard("rewrite", detail)]


@hazards.register
def _(change: ch.ReplaceGeneratedColumn) -> list[Hazard]:
    detail = f"generated column {change.column.name} is dropped and added again (table rewrite)"
    return [Hazard("rewrite", detail)]
