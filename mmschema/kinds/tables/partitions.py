"""Partitions: a partition's own columns, moves between parents, the parts of partitioned
indexes and foreign keys to partitioned tables; ATTACH and DETACH."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import Statement, alter_table, qualified, statements
from mmschema.desired.declared import DeclaredTable
from mmschema.equivalent import same_default
from mmschema.hazards import Hazard, hazards
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import Index, Partition, Table
from mmschema.kinds.tables.namespace import held_names
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName
from mmschema.pgnames import partition_index_name

if TYPE_CHECKING:
    from mmschema.kinds.tables.tables import TableDiff


@statements.register
def _(change: tc.AttachPartition) -> list[Statement]:
    action = sql.SQL("ATTACH PARTITION {} {}").format(
        qualified(change.table), sql.SQL(change.bound)
    )
    return [alter_table(change.parent, Form.ATTACH_PARTITION, action)]


@statements.register
def _(change: tc.DetachPartition) -> list[Statement]:
    action = sql.SQL("DETACH PARTITION {}").format(qualified(change.table))
    return [alter_table(change.parent, Form.DETACH_PARTITION, action)]


def partitions_at_build_time(changes: list[ch.Change]) -> list[ch.Change]:
    """A partitioned index is built after tables are created, replaced or detached, and
    before any is attached (ATTACH PARTITION indexes the table itself) or dropped: its
    parts are built on the partitions that are there then."""
    detached: set[QualifiedName] = set()
    replaced: dict[QualifiedName, Table] = {}
    created: list[Partition] = []
    for change in changes:
        match change:
            case tc.DetachPartition(table=name):
                detached.add(name)
            case tc.ReplaceTable(table=table):
                replaced[table.name] = table
            case tc.CreateTable(table=table) if table.partition_of is not None:
                created.append(Partition(table.name, table.partition_of, table.partitioned))
    if not (detached or replaced or created):
        return changes
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, tc.BuildPartitionedIndex | tc.ReplaceIndex) and change.partitions:
            below = {change.table}
            tree: list[Partition] = []
            live = [p for p in change.partitions if p.parent not in replaced]
            for part in (*live, *created):
                if part.parent in below and part.name not in detached | below:
                    again = replaced.get(part.name)
                    if again is not None:
                        part = replace(part, partitioned=again.partitioned)
                    below.add(part.name)
                    tree.append(part)
            change = replace(change, partitions=tuple(tree))
        result.append(change)
    return result


PARTS_VALIDATED_SINCE = 180000  # PostgreSQL 18's VALIDATE validates the derived ones too


def validated_per_partition(
    changes: list[ch.Change], live: Catalog, desired: Catalog
) -> list[ch.Change]:
    """A foreign key to a partitioned table is added validated, not NOT VALID then
    validated: PostgreSQL 14 to 17 leave the constraints it derives per referenced partition
    NOT VALID after VALIDATE (each alone cannot be validated: it checks one partition)."""
    if live.server_version >= PARTS_VALIDATED_SINCE:
        return changes
    at_once: set[tuple[QualifiedName, str]] = set()
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, tc.AddForeignKey) and change.not_valid and change.key.valid:
            referenced = desired.tables.get(change.key.references)
            if referenced is not None and referenced.partitioned:
                at_once.add((change.table, change.key.name))
                change = replace(change, not_valid=False)
        elif isinstance(change, tc.ValidateConstraint) and (change.table, change.name) in at_once:
            continue
        result.append(change)
    return result


def diff_partition_columns(
    live_parent: Table | None,
    want: Table,
    table: DeclaredTable,
    parent: Table | None,
    prune: bool,
    result: TableDiff,
    have: Table | None = None,
) -> None:
    """A partition's own NOT NULL and DEFAULT (have None: a partition this plan creates,
    whose columns are then its parent's). Where neither side has options of its own, the
    partition follows its parent's changes by itself. Undeclared ones are unmanaged."""
    now = {c.name: c for c in (have or live_parent or Table(want.name)).columns}
    above = {c.name: c for c in (live_parent.columns if live_parent else ())}
    wanted_above = {c.name: c for c in (parent.columns if parent else ())}
    declared = {c.name for c in table.partition_columns}
    new_table = have is None
    for column in want.columns:
        current = now.get(column.name)
        if current is None:
            continue
        own_now = current != above.get(column.name, current)
        own_wanted = column != wanted_above.get(column.name, column)
        if not (own_now or own_wanted):
            continue
        managed = column.name in declared or prune
        differs: list[ch.Change] = []
        if current.nullable != column.nullable:
            online = not new_table
            differs.append(
                cc.AlterColumnNullability(want.name, column.name, column.nullable, online)
            )
        if not same_default(current.default, column.default, column.type):
            differs.append(
                cc.AlterColumnDefault(want.name, column.name, current.default, column.default)
            )
        if differs and managed:
            result.changes.extend(differs)
        elif differs:
            result.unmanaged.append(
                f"partition column {want.name}.{column.name} (own NOT NULL or DEFAULT)"
            )


def diff_partitioning(have: Table, want: Table, prune: bool, result: TableDiff) -> None:
    """A partition moved to another parent or bound is detached and attached again.

    Partitioning the file does not mention (a file written before it could) is unmanaged:
    changed only with --prune, like other undeclared parts of a table.
    """
    if have.partition_by is not None and want.partition_by is None:
        result.unmanaged.append(f"partitioning {want.name} (PARTITION BY {have.partition_by})")
    if (have.partition_of, have.partition_bound) == (want.partition_of, want.partition_bound):
        return
    if have.partition_of is not None and want.partition_of is None and not prune:
        result.unmanaged.append(f"partition {want.name} (of {have.partition_of})")
        return
    if have.partition_of is not None:
        result.changes.append(tc.DetachPartition(want.name, have.partition_of))
    if want.partition_of is not None:
        bound = want.partition_bound or "DEFAULT"
        result.changes.append(tc.AttachPartition(want.name, want.partition_of, bound))


def equal_partition_indexes(
    have: Table, index: Index, live: Catalog
) -> tuple[tuple[QualifiedName, str], ...]:
    """Indexes that managed partitions already have with this definition: attached, as
    CREATE INDEX on the parent would, instead of built twice."""
    found = []
    for part in have.partitions:
        table = live.tables.get(part.name)
        equal = next(
            (
                i
                for i in (table.indexes if table else ())
                if not i.attached and i.valid and i.same_definition(index)
            ),
            None,
        )
        if equal is not None:
            found.append((part.name, equal.name))
    return tuple(found)


def part_names(
    live: Catalog,
    partitions: tuple[Partition, ...],
    index: Index,
    result: TableDiff,
    replaced: Index | None = None,
) -> tuple[tuple[QualifiedName, str], ...]:
    """The names PostgreSQL would give the parts of `index` on these partitions: not one
    in use in the schema (a replaced index's parts are gone by then) or chosen already."""
    if not partitions:
        return ()
    freed = {(p.schema, n) for p, n, _ in replaced.parts} if replaced else set()
    chosen: list[tuple[QualifiedName, str]] = []
    for part in partitions:
        schema = part.name.schema
        if schema not in result.names_in_use:
            result.names_in_use[schema] = {
                n.name
                for t in live.tables.values()
                if t.name.schema == schema
                for n in held_names(t)
            }
        taken = result.names_in_use[schema] - {n for s, n in freed if s == schema}
        name = partition_index_name(part.name.name, index, taken)
        result.names_in_use[schema].add(name)
        chosen.append((part.name, name))
    return tuple(chosen)


@hazards.register
def _(change: tc.AttachPartition) -> list[Hazard]:
    detail = (
        f"attaching {change.table} scans it under an ACCESS EXCLUSIVE lock to check its rows "
        "against the bound"
    )
    return [Hazard("blocking", detail)]
