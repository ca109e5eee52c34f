"""Online type changes by copy and swap: which tables qualify, and their steps (the copy
with its trigger, the batched copy, the indexes, the swap, validation and ANALYZE)."""

from __future__ import annotations

import json
from dataclasses import replace

from psycopg import sql

from mmschema import changes as ch
from mmschema.desired.declared import Settings
from mmschema.kinds.grants import Grant, catalog_order
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables import copy_changes as xc
from mmschema.kinds.tables.model import ForeignKey, Index, IndexKey
from mmschema.kinds.tables.online import plain_cast
from mmschema.model import Catalog, QualifiedName, View
from mmschema.online_names import (
    Replaced,
    TableState,
    as_made,
    copy_name,
    shadow_name,
    trigger_name,
    truncate_trigger,
    unique_index_under_shadow_name,
)

COPY_TRIGGER = " copy"  # what the copy's trigger name is derived from, beside the table's


def copy_trigger(table: QualifiedName) -> str:
    return trigger_name(table, COPY_TRIGGER)


def _belongs(change: ch.Change, table: QualifiedName) -> bool:
    return tc.table_before(change) == table or getattr(change, "table", None) == table


def copy_refusal(
    live: Catalog,
    table: QualifiedName,
    changes: list[ch.Change],
    online: set[tuple[QualifiedName, str]],
    state: TableState,
    settings: Settings,
    replaced: Replaced,
) -> str | None:
    """Why the table's online type changes cannot copy it into a new table, or None."""
    if settings.online_type_change_method != "copy":
        return "settings.online_type_change_method is shadow"
    if state.copy_blockers:
        return state.copy_blockers[0]
    current = live.tables[table]
    if any(c.name.startswith("_mms_new_") for c in current.columns):
        return "shadow columns of an earlier apply are in flight"
    if not live.dependents_known:
        return "its policies were not read"
    views = views_over(live, table, state)
    if len(views) < len(state.views_over):
        return "views read it that the plan did not read"
    if any(v.materialized for v in views):
        return "a materialized view reads it (making it again would hold the swap's lock)"
    if any(not v.rebuildable for v in views):
        return "a view that cannot be made again as it was (rules, triggers) reads it"
    over = {str(v.name) for v in views}
    if any(isinstance(c, ch.KindChange) and c.subject in over for c in changes):
        return "the plan changes a view over it too"  # the views kind's, after the swap
    if replaced.checks or replaced.gone:
        return "the plan changes its checks or indexes too"
    for change in changes:
        if not _belongs(change, table):
            continue
        match change:
            case cc.AlterColumnType(column=column) if (table, column) in online:
                continue
            case cc.AlterSequenceType() | tc.ValidateConstraint():
                continue
            case cc.DropTrigger() | cc.CreateTrigger():
                continue  # the swap makes every trigger of the table again
            case tc.DropIndex(index=index) | tc.CreateIndex(index=index) if (
                index.name in replaced.indexes
            ):
                continue
        return f"the plan changes it otherwise too ({type(change).__name__})"
    return None


def _value(change: cc.AlterColumnType) -> str:
    return change.using or plain_cast(change.column, change.new_type)


def copy_steps(
    live: Catalog,
    name: QualifiedName,
    retypes: list[cc.AlterColumnType],
    state: TableState,
    drops: tuple[tuple[QualifiedName, str], ...],
    adds: tuple[tuple[QualifiedName, ForeignKey], ...],
    moving: set[tuple[QualifiedName, str]],
    replaced: Replaced,
) -> list[ch.Change]:
    """The table's steps; `moving` are the foreign keys other swaps drop and add back."""
    table = live.tables[name]  # no shadow columns: copy_refusal
    assert table.primary_key is not None
    copy, trigger = copy_name(name.name), copy_trigger(name)
    copy_table = QualifiedName(name.schema, copy)
    by_column = {r.column: r for r in retypes}
    columns = tuple(
        (c.name, _value(by_column[c.name]) if c.name in by_column else _quoted(c.name))
        for c in table.columns
    )
    key = table.primary_key.columns
    steps: list[ch.Change] = []
    progress = None
    if state.copy_exists and {trigger, truncate_trigger(trigger)} <= state.triggers:
        progress = _progress_text(state.copy_progress)
    else:
        if state.copy_exists:
            steps.append(xc.CopyAbandon(name, copy, trigger, "its triggers are gone"))
        retyped = tuple(
            (
                r.column,
                r.new_type,
                r.new_default
                if r.old_default is not None and r.new_default != r.old_default
                else None,
            )
            for r in retypes
        )
        pk_name = shadow_name(table.primary_key.name)
        types = {c.name: c.type for c in table.columns}
        key_types = tuple(types[k] for k in key)
        steps.append(xc.CopyExpand(name, copy, trigger, key, key_types, pk_name, columns, retyped))
    steps.append(xc.CopyFill(name, copy, key, columns, progress))
    have = dict(state.copy_indexes) if progress is not None else {}
    built: list[tuple[str, Index]] = []
    for index in table.indexes:
        if index.constraint is not None:
            continue
        wanted = replaced.indexes.get(index.name, index)
        built.append((index.name, replace(wanted, name=shadow_name(index.name), comment=None)))
    unique = []
    for constraint in table.unique:
        index = unique_index_under_shadow_name(
            constraint, tuple(IndexKey(c) for c in constraint.columns)
        )
        built.append(("", index))
        unique.append((constraint, index.name))
    for _, index in built:
        if index.name not in have:
            steps.append(tc.CreateIndex(copy_table, index, concurrently=True))
        elif not have[index.name]:
            steps.append(tc.RebuildInvalidIndex(copy_table, index, concurrently=True))
    inbound = [
        (owner, fk)
        for owner, fk in live.inbound_foreign_keys
        if fk.references == name and (owner, fk.name) not in moving
    ]
    steps.append(
        xc.CopySwap(
            name,
            copy,
            trigger,
            (table.primary_key.name, shadow_name(table.primary_key.name)),
            tuple(unique),
            tuple((old, index.name) for old, index in built if old),
            tuple((sequence, column) for column, sequence in state.owned_sequences),
            tuple(dict.fromkeys(t for t, _ in (*drops, *adds, *inbound) if t != name)),
            (*drops, *((owner, fk.name) for owner, fk in inbound)),
            (*adds, *inbound),
            state.owner,
            *privileges_moved(state),
            table.comment,
            table.row_security,
            table.policies,
            state.triggers_kept,
            tuple(as_made(views_over(live, name, state), replaced)),
        )
    )
    steps.extend(tc.ValidateConstraint(owner, fk.name) for owner, fk in inbound if fk.valid)
    steps.append(xc.AnalyzeTable(name))
    return steps


def views_over(live: Catalog, table: QualifiedName, state: TableState) -> list[View]:
    """The views over the table (any depth), shallowest first, as the plan read them."""
    return [v for v in live.views if v.name in state.views_over]


def privileges_moved(state: TableState) -> tuple[tuple[Grant, ...], tuple[Grant, ...]]:
    """What to revoke on the copy and grant on it so that it has exactly the table's
    privileges, its columns' included (the copy has none on its columns)."""

    def on_table(entries: tuple[tuple[str, str, str, bool], ...]) -> set[Grant]:
        grantable: dict[tuple[str, str], bool] = {}
        for role, privilege, column, option in entries:
            if not column:
                grantable[role, privilege] = grantable.get((role, privilege), False) or option
        return {Grant(role, privilege, "", flag) for (role, privilege), flag in grantable.items()}

    had, has = on_table(state.privileges), on_table(state.copy_privileges)
    columns = [Grant(*entry) for entry in state.privileges if entry[2]]
    # a grant option added needs no revoke first
    revokes = [g for g in has - had if g.grantable or replace(g, grantable=True) not in had]
    return tuple(sorted(revokes, key=catalog_order)), tuple(
        sorted([*(had - has), *columns], key=catalog_order)
    )


def _quoted(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def _progress_text(comment: str | None) -> str:
    """What the plan says of a copy in flight."""
    done = ""
    if comment:
        try:
            done = f", rows copied through key {', '.join(json.loads(comment)['after'])}"
        except (ValueError, KeyError, TypeError):
            done = ""
    return f"copy from an earlier apply, its trigger in place{done}"


def copies_abandoned(
    live: Catalog, copied: set[QualifiedName], states: dict[QualifiedName, TableState]
) -> list[ch.Change]:
    """Copies of online changes the plan no longer makes: dropped with their trigger."""
    return [
        xc.CopyAbandon(
            name,
            copy_name(name.name),
            copy_trigger(name),
            "copy left by an earlier apply, not swapped in",
        )
        for name, state in states.items()
        if state.copy_exists and name not in copied and name in live.tables
    ]
