"""`apply --revision N`: run N's file again, undoing only what the runs after N declared.

What later runs' files declared beyond run N's file (tables, columns, indexes, constraints,
primary keys, table options) is rolled back: tables become `state: absent`, the rest is
dropped as `--prune` would, but only those parts. What no run after N declared (created by
hand, or by an older file) is left alone unless `--prune` is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from mmschema import changes as ch
from mmschema.desired.declared import DeclaredTable, DesiredState, InvalidFile
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.tables import TABLE_OPTIONS
from mmschema.model import QualifiedName
from mmschema.plan import Plan

Part = tuple[QualifiedName, str, str]  # table, kind ("column", "index", ...), name


@dataclass(frozen=True)
class Rollback:
    """Run N's desired state, with what later runs added to undo."""

    run_id: int
    desired: DesiredState  # run N's file, plus `state: absent` for tables later runs added
    parts: frozenset[Part]  # parts of kept tables that later runs declared and N's file not
    dropped_tables: tuple[QualifiedName, ...]
    later_runs: tuple[int, ...]


def table_parts(table: DeclaredTable) -> set[Part]:
    name = table.name
    parts: set[Part] = {(name, "column", c.name) for c in table.present_columns()}
    parts |= {(name, "index", i.name) for i in table.present_indexes()}
    for group in (table.unique, table.foreign_keys, table.checks, table.exclusions):
        parts |= {(name, "constraint", constraint.name) for constraint in group}
    if table.primary_key is not None:
        parts.add((name, "primary key", ""))
    options = {
        "unlogged": table.unlogged,
        "row_security": table.row_security,
        "replica_identity": table.replica_identity,
    }
    parts |= {(name, "option", option) for option, value in options.items() if value is not None}
    return parts


def rollback_of(
    run_id: int, desired: DesiredState, later: Iterable[tuple[int, DesiredState]]
) -> Rollback:
    kept = {t.name: t for t in desired.present_tables()}
    mentioned = {t.name for t in desired.tables}
    wanted: set[Part] = set().union(*(table_parts(t) for t in kept.values()))
    parts: set[Part] = set()
    added: dict[QualifiedName, DeclaredTable] = {}
    runs: list[int] = []
    for later_id, state in later:
        runs.append(later_id)
        for table in state.present_tables():
            if table.name not in mentioned:
                added.setdefault(table.name, replace(table, state="absent"))
            elif table.name in kept:
                parts |= table_parts(table) - wanted
    return Rollback(
        run_id,
        replace(desired, tables=(*desired.tables, *added.values())),
        frozenset(parts),
        tuple(added),
        tuple(runs),
    )


def part_of(change: ch.Change) -> Part | None:
    """The table part a change that only --prune makes removes or resets."""
    match change:
        case cc.DropColumn(table=table, column=column):
            return (table, "column", column)
        case tc.DropIndex(table=table, index=index):
            return (table, "index", index.name)
        case tc.DropConstraint(table=table, name=name):
            return (table, "constraint", name)
        case tc.DropPrimaryKey(table=table):
            return (table, "primary key", "")
        case tc.SetTableOption(table=table, option=option):
            return (table, "option", option)
    return None


def scoped(pruned: Plan, kept: Plan, parts: frozenset[Part]) -> Plan:
    """The --prune plan without the prune-only changes to parts no later run declared."""
    ordinary = [planned.change for planned in kept.changes]
    changes = [
        planned
        for planned in pruned.changes
        if planned.change in ordinary or part_of(planned.change) in parts
    ]
    dropped = {part_of(p.change) for p in changes} - {None}
    unmanaged = [u for u in kept.unmanaged if not any(_names(u, part) for part in dropped)]
    return replace(pruned, changes=changes, unmanaged=unmanaged)


def _names(unmanaged: str, part: Part | None) -> bool:
    """Whether an unmanaged entry ("column public.t.x", ...) is about `part`."""
    if part is None:
        return False
    table, kind, name = part
    if kind == "constraint":
        kinds = ("unique", "foreign key", "check", "exclusion")
        return any(unmanaged == f"{k} {table}.{name}" for k in kinds)
    if kind == "primary key":
        return unmanaged.startswith(f"primary key {table}.")
    if kind == "option":
        label = next(label for option, label, _ in TABLE_OPTIONS if option == name)
        return unmanaged.startswith(f"{label} {table} (")
    return unmanaged == f"{kind} {table}.{name}"


def load_later(texts: list[tuple[int, str]], skipped: list[str]) -> list[tuple[int, DesiredState]]:
    """Later runs' files as desired states; a file that no longer loads is named in skipped."""
    from mmschema.desired.load import load_text

    states: list[tuple[int, DesiredState]] = []
    for run_id, text in texts:
        try:
            states.append((run_id, load_text(text, f"run-{run_id}.yaml")))
        except InvalidFile:
            skipped.append(f"run {run_id}")
    return states
