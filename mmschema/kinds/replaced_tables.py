"""Declared triggers, policies, views and materialized views on a table the plan drops and
creates again (ReplaceTable): made again after it, the views dropped before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mmschema import changes as ch
from mmschema.hazards import Hazard, hazards
from mmschema.kinds.base import KindObject
from mmschema.kinds.matviews import ManagedMatview
from mmschema.kinds.policies import ManagedPolicy
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.triggers import ManagedTrigger
from mmschema.kinds.views import ManagedView, PruneView
from mmschema.model import Catalog, QualifiedName


@dataclass(frozen=True)
class DropViewToRemake(PruneView):
    """DROP [MATERIALIZED] VIEW of a declared one reading a table the plan re-creates: it
    would block the DROP TABLE; the view kind makes it again afterwards."""

    replaced: QualifiedName | None = None


@hazards.register
def _(change: DropViewToRemake) -> list[Hazard]:
    what = "materialized view" if change.view.materialized else "view"
    detail = (
        f"drops {what} {change.view.name} to make it again after table {change.replaced} "
        "is created again"
    )
    return [Hazard("destructive", detail)]


def taken_by_replaced_tables(
    changes: Sequence[ch.Change], live: Catalog, desired: Sequence[KindObject]
) -> tuple[tuple[KindObject, ...], list[ch.Change]]:
    """The live kind objects without those the DROP TABLE of a replaced table takes along
    (so that the kinds' diff makes them again), and the drops, deepest first, of the
    declared views reading such a table (else the DROP TABLE fails)."""
    replaced = [c.table.name for c in changes if isinstance(c, tc.ReplaceTable)]
    if not replaced:
        return live.objects, []
    gone: dict[QualifiedName, QualifiedName] = {name: name for name in replaced}
    for view in sorted(live.views, key=lambda v: v.level):
        source = next((gone[r] for r, _ in view.reads if r in gone), None)
        if source is not None:
            gone[view.name] = source
    views = (o for o in desired if isinstance(o, ManagedView | ManagedMatview))
    declared = {o.name for o in views if o.state == "present"}
    drops: list[ch.Change] = [
        DropViewToRemake(view, replaced=gone[view.name])
        for view in sorted(live.views, key=lambda v: -v.level)
        if view.name in gone and view.name in declared
    ]
    dropped = {change.view.name for change in drops if isinstance(change, PruneView)}

    def taken(item: KindObject) -> bool:
        if isinstance(item, ManagedTrigger | ManagedPolicy):
            return item.table in gone
        if isinstance(item, ManagedView | ManagedMatview):
            return item.name in dropped
        return False

    return tuple(o for o in live.objects if not taken(o)), drops
