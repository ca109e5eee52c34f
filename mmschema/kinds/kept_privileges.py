"""What a plan drops and makes again (a replaced table, a rebuilt view, routine, domain or
type) gets back the owner and the grants it had that the file does not manage, read from
the target, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from mmschema import changes as ch
from mmschema.kinds import domains, matviews, views
from mmschema.kinds.base import KindObject
from mmschema.kinds.functions import DropRoutine, RebuildRoutine
from mmschema.kinds.grants import (
    PUBLIC,
    Grant,
    Privileges,
    RevokeUnmanaged,
    SetPrivileges,
    Target,
    catalog_order,
    check_roles,
    public_by_default,
    read_privileges,
)
from mmschema.kinds.replaced_tables import DropViewToRemake
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.types import RebuildType
from mmschema.model import QualifiedName

# A view's columns as the kinds carry them: "name type".
Columns = frozenset[str] | None


@dataclass(frozen=True)
class Remade:
    """An object a change drops and makes again, as owners and grants name it."""

    target: Target
    # The change gives back the old owner and the object's own grants (not its columns').
    restores_itself: bool
    # The new object's column names; None: as the old one's (made again as it was).
    columns: Columns = None
    # Its column grants cannot be given back: what columns it has is not known here.
    columns_unknown: bool = False


def remade_objects(changes: Sequence[ch.Change]) -> list[Remade]:
    """The objects the changes drop and make again (a declared view dropped for a replaced
    table is made again by the view kind, from the file)."""
    dropped = {c.view.name for c in changes if isinstance(c, DropViewToRemake)}
    found: list[Remade] = []
    for change in changes:
        found += _remade(change, dropped)
    return found


def _remade(change: ch.Change, dropped: set[QualifiedName]) -> list[Remade]:
    match change:
        case tc.ReplaceTable(table=table):
            names = frozenset(c.name for c in table.columns)
            return [Remade(_relation(table.name), False, names)]
        case cc.CreateView(view=view):
            return [Remade(_relation(view.name), True)]
        case views.CreateView(view=view) if view.name in dropped and not change.replace:
            return [_view(view, restores=False)]
        case matviews.CreateMatview(view=view) if view.name in dropped:
            return [_view(view, restores=False)]
        case views.RebuildView(new=new, readers=readers) | matviews.RebuildMatview(
            new=new, readers=readers
        ):
            return [_view(new), *(_view(reader) for reader in readers)]
        case RebuildRoutine(new=routine, old=old):
            word = "procedure" if routine.procedure else "function"
            made = Target(word, routine.name.schema, routine.name.name, routine.identity)
            return [Remade(made, True), *(Remade(_relation(v.name), True) for v in old.user_views)]
        case DropRoutine(remade=remade):
            return [_view(view) for view in remade]
        case domains.RebuildDomain(new=new):
            return [Remade(Target("domain", new.name.schema, new.name.name), False)]
        case RebuildType(new=new):
            return [Remade(Target("type", new.name.schema, new.name.name), False)]
        case ch.RebuildEnum(name=name):
            return [Remade(Target("type", name.schema, name.name), False)]
    return []


def _relation(name: QualifiedName) -> Target:
    return Target("table", name.schema, name.name)


def _view(view: Any, restores: bool = True) -> Remade:
    """A declared view or materialized view made from the file's query."""
    if isinstance(view, views.ManagedView) and view.columns:
        return Remade(_relation(view.name), restores, _names(view.columns))
    if isinstance(view, matviews.ManagedMatview) and view.column_names:
        return Remade(_relation(view.name), restores, frozenset(view.column_names))
    return Remade(_relation(view.name), restores, columns_unknown=True)


def _names(printed: Iterable[str]) -> frozenset[str]:
    """Column names from "name type": a name may hold spaces, so every prefix ending
    before a space is taken (a grant on a name the view lacks matches none of them)."""
    names: set[str] = set()
    for text in printed:
        parts = text.split(" ")
        names.update(" ".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(names)


def with_privileges_kept(
    conn: psycopg.Connection[Any], changes: list[ch.Change], desired: Sequence[KindObject]
) -> list[ch.Change]:
    """The changes, with each remade object's old owner and undeclared grants given back
    (what the file revokes, and what --prune revokes, left out): one query when something
    is remade, none otherwise."""
    remade = remade_objects(changes)
    if not remade:
        return changes
    facts = check_roles(conn, [])
    live = {p.key: p for p in read_privileges(conn, [r.target for r in remade])}
    declared = {p.key: p for p in desired if isinstance(p, Privileges)}
    given = {c.target.key: c for c in changes if isinstance(c, SetPrivileges)}
    pruned = {
        (c.target.key, c.grant.what): c.option_only
        for c in changes
        if isinstance(c, RevokeUnmanaged)
    }
    kept: dict[str, SetPrivileges] = {}
    for item in remade:
        old = live.get(item.target.key)
        if old is None or item.target.key in kept:
            continue
        change = _kept(item, old, declared.get(item.target.key), given.get(item.target.key))
        made = _without_pruned(change, pruned, facts.connected_as)
        if made is not None:
            kept[item.target.key] = made
    if not kept:
        return changes
    result = [kept.pop(c.target.key, c) if isinstance(c, SetPrivileges) else c for c in changes]
    return sorted([*result, *kept.values()], key=lambda c: c.phase)


def _kept(
    item: Remade, old: Privileges, want: Privileges | None, given: SetPrivileges | None
) -> SetPrivileges:
    """The change giving the remade object what the plan gives it and what it had."""
    owner = given.owner if given is not None else None
    if owner is None and not item.restores_itself and (want is None or want.owner is None):
        owner = old.owner
    final_owner = owner or old.owner
    restored: dict[tuple[str, str, str], bool] = {}
    for grant in given.grants if given is not None else ():
        restored[grant.what] = restored.get(grant.what, False) or grant.grantable
    revoked = {g.what for g in want.revoked} if want is not None else set()
    declared = {g.what for g in want.grants or ()} if want is not None else set()
    grants = list(given.grants) if given is not None else []
    public = public_by_default(item.target)
    for grant in sorted(old.grants or ()):
        if grant.role == final_owner or (grant.what in revoked and grant.what not in declared):
            continue
        if public is not None and grant.what == public.what:
            continue  # the new one has it too
        if item.restores_itself and not grant.column:
            continue  # the change gives them back itself
        if grant.column and (item.columns_unknown or (
            item.columns is not None and grant.column not in item.columns
        )):
            continue
        if grant.what in restored and (restored[grant.what] or not grant.grantable):
            continue
        grants.append(grant)
        restored[grant.what] = grant.grantable
    revokes = list(given.revokes) if given is not None else []
    had = {g.what for g in old.grants or ()}
    if (
        public is not None
        and not item.restores_itself
        and public.what not in had
        and public.what not in restored
        and public not in revokes
    ):
        revokes.append(public)
    return SetPrivileges(
        item.target,
        owner,
        tuple(sorted(grants, key=catalog_order)),
        tuple(sorted(revokes, key=catalog_order)),
    )


def _without_pruned(
    change: SetPrivileges, pruned: dict[tuple[str, tuple[str, str, str]], bool], applier: str
) -> SetPrivileges | None:
    """The change without the grants --prune revokes (with the grant option only, when
    that is what it revokes), and without an owner change to the role applying."""
    key = change.target.key
    grants = []
    for grant in change.grants:
        option_only = pruned.get((key, grant.what))
        if option_only is False:
            continue
        grantable = grant.grantable and option_only is None
        grants.append(Grant(grant.role, grant.privilege, grant.column, grantable))
    owner = change.owner if change.owner != applier else None
    if owner is None and not grants and not change.revokes:
        return None
    return SetPrivileges(change.target, owner, tuple(grants), change.revokes)


__all__ = ["PUBLIC", "Remade", "remade_objects", "with_privileges_kept"]
