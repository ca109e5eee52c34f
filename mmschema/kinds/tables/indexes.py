"""Indexes: how they compare, and their DDL (concurrent builds, swaps under a temporary
name, renames)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import (
    Statement,
    comment,
    dotted,
    make_statement,
    name_prefix,
    qualified,
    statements,
)
from mmschema.desired.declared import DeclaredTable
from mmschema.hazards import Hazard, hazards
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables.model import (
    Index,
    IndexKey,
    Table,
)
from mmschema.kinds.tables.partitions import equal_partition_indexes, part_names
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName
from mmschema.pgnames import partition_index_name as postgres_part_name

if TYPE_CHECKING:
    from mmschema.kinds.tables.tables import TableDiff


def index_key(key: IndexKey) -> sql.Composable:
    parts: list[sql.Composable] = [
        sql.Identifier(key.expr) if key.is_column else sql.SQL("({})").format(sql.SQL(key.expr))
    ]
    if key.collation:
        parts.append(sql.SQL("COLLATE {}").format(dotted(key.collation)))
    if key.opclass:
        parts.append(dotted(key.opclass))
    if key.descending:
        parts.append(sql.SQL("DESC"))
        if not key.nulls_first:
            parts.append(sql.SQL("NULLS LAST"))
    elif key.nulls_first:
        parts.append(sql.SQL("NULLS FIRST"))
    return sql.SQL(" ").join(parts)


def access_method(name: str) -> sql.Composable:
    """Access methods print bare when they are plain lower-case names, as pg_get_indexdef does."""
    return sql.SQL(name) if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else sql.Identifier(name)


def create_index(
    table: QualifiedName, index: Index, name: str, concurrently: bool, only: bool = False
) -> Statement:
    """CREATE INDEX; `only`: on a partitioned table alone, not on its partitions."""
    parts: list[sql.Composable] = [
        sql.SQL("CREATE UNIQUE INDEX" if index.unique else "CREATE INDEX"),
    ]
    if concurrently:
        parts.append(sql.SQL("CONCURRENTLY"))
    parts.append(
        sql.SQL("{} ON {}{} USING {} ({})").format(
            sql.Identifier(name),
            sql.SQL("ONLY ") if only else sql.SQL(""),
            qualified(table),
            access_method(index.method),
            sql.SQL(", ").join(index_key(k) for k in index.keys),
        )
    )
    if index.include:
        parts.append(
            sql.SQL("INCLUDE ({})").format(sql.SQL(", ").join(map(sql.Identifier, index.include)))
        )
    if not index.nulls_distinct:
        parts.append(sql.SQL("NULLS NOT DISTINCT"))
    if index.with_options:
        options = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in index.with_options
        )
        parts.append(sql.SQL("WITH ({})").format(options))
    if index.where:
        parts.append(sql.SQL("WHERE {}").format(sql.SQL(index.where)))
    form = Form.CREATE_INDEX_CONCURRENTLY if concurrently else Form.CREATE_INDEX
    return make_statement(form, sql.SQL(" ").join(parts))


def drop_index_concurrently(schema: str, name: str) -> Statement:
    return make_statement(
        Form.DROP_INDEX_CONCURRENTLY,
        sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(schema, name)),
    )


def rename_index(schema: str, old: str, new: str) -> Statement:
    return make_statement(
        Form.RENAME_INDEX,
        sql.SQL("ALTER INDEX {} RENAME TO {}").format(
            sql.Identifier(schema, old), sql.Identifier(new)
        ),
    )


def concurrently_built_index(change: ch.Change) -> tuple[QualifiedName, str] | None:
    """The index a change builds CONCURRENTLY (left INVALID if the build fails), if any."""
    match change:
        case tc.CreateIndex(concurrently=True) | tc.RebuildInvalidIndex(concurrently=True):
            return change.table, change.index.name
        case tc.ReplaceIndex(concurrently=True):
            return change.table, temporary_index_name(change.new.name)
        case tc.AddUnique(using_index=True):
            return change.table, change.constraint.name
        case tc.AddPrimaryKey(index="build"):
            return change.table, change.key.name
    return None


def temporary_index_name(name: str) -> str:
    """The name a replacement index is built under (kept within NAMEDATALEN)."""
    return f"{name[:54]}_mmsnew"


@statements.register
def _(change: tc.CreateIndex) -> list[Statement]:
    build = create_index(change.table, change.index, change.index.name, change.concurrently)
    if change.in_type_change:
        build = replace(build, form=Form.CREATE_INDEX_IN_TYPE_CHANGE)
    result = [build]
    if change.index.comment is not None:
        result.append(comment("index", change.table, change.index.name, change.index.comment))
    return result


@hazards.register
def _(change: tc.CreateIndex) -> list[Hazard]:
    if not change.in_type_change:
        return []
    detail = (
        f"index {change.index.name} is dropped and built again in the transaction of the type "
        f"change of {change.table}, under its ACCESS EXCLUSIVE lock: reads and writes wait "
        "for the build, and the unique index is never missing"
    )
    return [Hazard("blocking", detail)]


def drop_index(schema: str, name: str, concurrently: bool, cascade: bool = False) -> Statement:
    if concurrently:
        return drop_index_concurrently(schema, name)
    drop = sql.SQL("DROP INDEX IF EXISTS {}{}").format(
        sql.Identifier(schema, name), sql.SQL(" CASCADE" if cascade else "")
    )
    return make_statement(Form.DROP_INDEX, drop)


@statements.register
def _(change: tc.DropIndex) -> list[Statement]:
    schema, name = change.table.schema, change.index.name
    return [drop_index(schema, name, change.concurrently, cascade=bool(change.cascade))]


@statements.register
def _(change: tc.RenameIndex) -> list[Statement]:
    return [rename_index(change.table.schema, change.old, change.new)]


@statements.register
def _(change: tc.ReplaceIndex) -> list[Statement]:
    temporary = temporary_index_name(change.new.name)
    schema, online = change.table.schema, change.concurrently
    if change.partitions:
        return _replace_piecemeal(change, temporary)
    result = [
        drop_index(schema, temporary, online),
        create_index(change.table, change.new, temporary, concurrently=online),
        drop_index(schema, change.old.name, online),
        rename_index(schema, temporary, change.new.name),
    ]
    if change.new.comment is not None:
        result.append(comment("index", change.table, change.new.name, change.new.comment))
    return result


@statements.register
def _(change: tc.RebuildInvalidIndex) -> list[Statement]:
    online = change.concurrently
    return [
        drop_index(change.table.schema, change.index.name, online),
        create_index(change.table, change.index, change.index.name, concurrently=online),
    ]


def temporary_part_name(index: str, partition: QualifiedName) -> str:
    """The name of the part of a partitioned index built on one partition (NAMEDATALEN-safe)."""
    name = f"{partition.name}_{index}"
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha256(f"{partition}.{index}".encode()).hexdigest()[:8]
    return f"{name_prefix(partition.name, 27)}_{name_prefix(index, 26)}_{digest}"


def attach_index(schema: str, parent_index: str, part: QualifiedName, part_index: str) -> Statement:
    return make_statement(
        Form.ATTACH_INDEX,
        sql.SQL("ALTER INDEX {} ATTACH PARTITION {}").format(
            sql.Identifier(schema, parent_index), sql.Identifier(part.schema, part_index)
        ),
    )


@statements.register
def _(change: tc.BuildPartitionedIndex) -> list[Statement]:
    """ON ONLY the parent (invalid until every partition has its part), then per partition,
    parents first: ON ONLY again for a partitioned one, else a CONCURRENTLY build (a failed
    earlier one's leftover dropped first), and ATTACH. The last ATTACH makes it valid."""
    index, table = change.index, change.table
    result = []
    if not change.resume:
        result.append(create_index(table, index, index.name, concurrently=False, only=True))
    names = {table: index.name}
    chosen = dict(change.part_names)
    adopted = dict(change.adopted)
    done = {part: (name, valid) for part, name, valid in change.done}
    for part in change.partitions:
        parent_index = names.get(part.parent)
        if parent_index is None:
            continue
        if part.name in done:
            part_index, valid = done[part.name]
            if not valid:  # a partitioned partition's part: complete it below
                names[part.name] = part_index
            continue
        lasting = None
        if part.name in adopted:
            part_index = adopted[part.name]
        else:
            # Built under a name of mmschema's own (a leftover of an interrupted build is
            # dropped by it), named as PostgreSQL would once attached.
            part_index = temporary_part_name(index.name, part.name)
            lasting = chosen.get(part.name) or postgres_part_name(part.name.name, index)
            if part.partitioned:
                result.append(
                    create_index(part.name, index, part_index, concurrently=False, only=True)
                )
            else:
                result.append(drop_index_concurrently(part.name.schema, part_index))
                result.append(create_index(part.name, index, part_index, concurrently=True))
        result.append(attach_index(part.parent.schema, parent_index, part.name, part_index))
        if lasting is not None and lasting != part_index:
            result.append(rename_index(part.name.schema, part_index, lasting))
            part_index = lasting
        names[part.name] = part_index
    if index.comment is not None:
        result.append(comment("index", table, index.name, index.comment))
    return result


def _replace_piecemeal(change: tc.ReplaceIndex, temporary: str) -> list[Statement]:
    """The new index built piece by piece under the temporary name, the old one dropped
    (its parts with it), then the new one and its parts given their lasting names."""
    schema = change.table.schema
    temporary_names = tuple(
        (p.name, temporary_part_name(temporary, p.name)) for p in change.partitions
    )
    build = tc.BuildPartitionedIndex(
        change.table,
        replace(change.new, name=temporary, comment=None),
        change.partitions,
        part_names=temporary_names,
    )
    lasting = dict(change.part_names)
    result = [drop_index(schema, temporary, concurrently=False), *statements(build)]
    result.append(drop_index(schema, change.old.name, concurrently=False))
    result.append(rename_index(schema, temporary, change.new.name))
    for part in change.partitions:
        result.append(
            rename_index(
                part.name.schema,
                temporary_part_name(temporary, part.name),
                lasting.get(part.name) or postgres_part_name(part.name.name, change.new),
            )
        )
    if change.new.comment is not None:
        result.append(comment("index", change.table, change.new.name, change.new.comment))
    return result


def cascade_to_swallowed(result: TableDiff) -> list[ch.Change]:
    """A dropped partitioned index whose parts back partitions' constraints drops them too."""
    if not result.swallowed:
        return result.changes
    changed: list[ch.Change] = []
    for change in result.changes:
        if isinstance(change, tc.DropIndex):
            gone = tuple(p for p, n, _ in change.index.parts if (p, n) in result.swallowed)
            if gone:
                change = replace(change, cascade=gone)
        changed.append(change)
    return changed


def kept_unique_constraint(have: Table, index: Index) -> bool:
    """Whether a live UNIQUE constraint's index has this name and this definition."""
    plain = (
        not index.where
        and not index.include
        and all(
            k.is_column and not (k.descending or k.nulls_first or k.opclass or k.collation)
            for k in index.keys
        )
    )
    return (
        plain
        and index.unique
        and any(
            u.name == index.name
            and u.columns == tuple(k.expr for k in index.keys)
            and u.nulls_distinct == index.nulls_distinct
            for u in have.unique
        )
    )


def diff_indexes(
    have: Table,
    want: Table,
    table: DeclaredTable,
    prune: bool,
    result: TableDiff,
    live: Catalog,
    taken_over: frozenset[str] | set[str] = frozenset(),
) -> None:
    name = want.name
    online = not have.partitioned  # no CONCURRENTLY on a partitioned table's indexes
    claimed: set[str] = set()
    for declared in table.indexes:
        claimed.add(declared.name)
        current = have.index(declared.name)
        if declared.state == "absent":
            if current is not None:
                result.changes.append(result.dropping(tc.DropIndex(name, current, online)))
            continue
        target = want.index(declared.name)
        assert target is not None, f"normalized table {name} lacks index {declared.name}"
        if current is None and declared.renamed_from and have.index(declared.renamed_from):
            claimed.add(declared.renamed_from)
            result.changes.append(tc.RenameIndex(name, declared.renamed_from, declared.name))
            current = replace(have.index(declared.renamed_from) or target, name=declared.name)
        if current is None and kept_unique_constraint(have, target):
            continue  # an undeclared UNIQUE constraint of that name already is this index
        if current is not None and (name, current.name) in result.orphaned:
            current = None  # part of a parent's index this plan drops: built again
        piecemeal = have.partitioned and bool(have.partitions)
        if piecemeal and (current is None or not current.valid):
            adopted = equal_partition_indexes(have, target, live)
            result.adopted.update(adopted)
            done = current.parts if current is not None else ()
            result.changes.append(
                tc.BuildPartitionedIndex(
                    name,
                    target,
                    have.partitions,
                    adopted,
                    done,
                    resume=current is not None,
                    part_names=part_names(live, have.partitions, target, result),
                )
            )
        elif current is None:
            result.changes.append(tc.CreateIndex(name, target, online))
        elif not current.valid:
            result.changes.append(tc.RebuildInvalidIndex(name, target, online))
        elif not current.same_definition(target):
            parts = have.partitions if have.partitioned else ()
            names = part_names(live, parts, target, result, current)
            replacing = tc.ReplaceIndex(name, current, target, online, parts, names)
            result.changes.append(result.dropping(replacing))
        elif current.comment != target.comment:
            result.changes.append(tc.SetComment("index", name, target.name, target.comment))
    for index in have.indexes:
        if index.name in claimed or index.name in taken_over or index.attached:
            continue
        if (name, index.name) in result.adopted:
            continue  # becomes a part of its parent's index
        if prune:
            result.changes.append(result.dropping(tc.DropIndex(name, index, online)))
        else:
            result.unmanaged.append(f"index {name}.{index.name}")
