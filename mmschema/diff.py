"""The pure diff: live catalog and desired catalog (plus the file's intent) to ordered changes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mmschema import changes as ch
from mmschema.dependencies import (
    rebuild_dependent_foreign_keys,
    rebuild_dependent_views,
    regenerate_over_retyped_columns,
    split_replacements_over_retyped_columns,
)
from mmschema.desired.declared import DeclaredColumn, DeclaredEnum, DeclaredTable, DesiredState
from mmschema.equivalent import same_default
from mmschema.kinds.tables.model import SERIAL_TYPES, Column, Index, IndexKey, Partition, Table
from mmschema.model import Catalog, QualifiedName, UserType
from mmschema.namespace import drops_that_make_room, held_names
from mmschema.pgnames import partition_index_name
from mmschema.pipeline.kinds import declared_schemas_made_once, diff_objects, without_pruned
from mmschema.renames import column_renames, with_renamed_columns
from mmschema.scratch_steps import raw_column, referenced_sequences


@dataclass
class DiffResult:
    changes: list[ch.Change] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)  # "column public.t.x", "index ..."
    # Parts of partitioned indexes this plan drops: (partition, index) go with them.
    orphaned: set[tuple[QualifiedName, str]] = field(default_factory=set)
    # Partitions' indexes a partitioned index this plan builds takes over: kept.
    adopted: set[tuple[QualifiedName, str]] = field(default_factory=set)
    # Partitions' constraints backed by an orphaned part: dropped by DROP INDEX ... CASCADE.
    swallowed: set[tuple[QualifiedName, str]] = field(default_factory=set)
    # Relation names per schema: the live ones, and parts' names this plan chose.
    names_in_use: dict[str, set[str]] = field(default_factory=dict)
    # Column renames the file declares, per table: live keys and indexes read with them.
    column_renames: dict[QualifiedName, dict[str, str]] = field(default_factory=dict)

    def dropping(self, change: ch.DropIndex | ch.ReplaceIndex) -> ch.Change:
        index = change.index if isinstance(change, ch.DropIndex) else change.old
        self.orphaned.update((part, name) for part, name, _ in index.parts)
        return change


def managed_names(declared: DesiredState) -> list[QualifiedName]:
    """Every live name the file may be talking about, old names of renames included."""
    names: list[QualifiedName] = []
    for table in declared.tables:
        names.append(table.name)
        if table.renamed_from is not None:
            names.append(table.renamed_from)
    return list(dict.fromkeys(names))


def diff(
    live: Catalog, desired: Catalog, declared: DesiredState, prune: bool = False
) -> DiffResult:
    result = DiffResult(column_renames=column_renames(live, declared))
    if prune:
        live = without_pruned(live)
    for extension in declared.extensions:
        if extension not in live.extensions:
            result.changes.append(ch.CreateExtension(extension))
    new_schemas: set[str] = set()
    _diff_enums(live, declared.enums, new_schemas, result)
    gone: set[QualifiedName] = set()  # dropped or re-created: their partitions went too
    parents = _renamed_tables(live, declared)
    for table in declared.tables:  # partitions after their parents
        have = _live_table(live, table, result)
        if have is not None and have.partition_of in parents:
            have = replace(have, partition_of=parents[have.partition_of])
        if have is not None and have.partition_of in gone:
            gone.add(have.name)
            have = None
        if table.state == "absent":
            if have is not None:
                result.changes.append(ch.DropTable(table.name, have.dependents_of()))
                gone.add(table.name)
            continue
        want = desired.tables[table.name]
        if have is None:
            schema = table.name.schema
            if schema not in live.schemas and schema not in new_schemas:
                new_schemas.add(schema)
                result.changes.append(ch.CreateSchema(schema))
            _create_table(table, want, result)
            if want.partition_of is not None:
                parent = desired.tables.get(want.partition_of)
                _diff_partition_columns(parent, want, table, parent, True, result)
        elif have.partition_by != want.partition_by and (prune or want.partition_by):
            _create_table(table, want, result, replace_live=True)
            gone.add(table.name)
        else:
            _diff_table(have, want, table, prune, result, live)
            if want.partition_of is not None:
                parent = desired.tables.get(want.partition_of)
                live_parent = live.tables.get(have.partition_of) if have.partition_of else None
                _diff_partition_columns(live_parent, want, table, parent, prune, result, have)
    result.changes = _cascade_to_swallowed(result)
    result.changes = partitions_at_build_time(result.changes)
    result.changes = drops_that_make_room(live, result.changes)
    result.changes = rebuild_dependent_foreign_keys(live, desired, result.changes)
    result.changes = split_replacements_over_retyped_columns(result.changes)
    result.changes = regenerate_over_retyped_columns(live, desired, result.changes)
    result.changes = rebuild_dependent_views(live, result.changes)
    objects = diff_objects(live.objects, desired.objects)
    result.changes = declared_schemas_made_once(result.changes, objects)
    for item in live.unmanaged:
        if prune:
            result.changes.append(item.drop)
        else:
            result.unmanaged.append(item.label)
    result.changes = _validated_per_partition(result.changes, live, desired)
    result.changes.sort(key=lambda c: c.phase)
    return result


def _cascade_to_swallowed(result: DiffResult) -> list[ch.Change]:
    """A dropped partitioned index whose parts back partitions' constraints drops them too."""
    if not result.swallowed:
        return result.changes
    changed: list[ch.Change] = []
    for change in result.changes:
        if isinstance(change, ch.DropIndex):
            gone = tuple(p for p, n, _ in change.index.parts if (p, n) in result.swallowed)
            if gone:
                change = replace(change, cascade=gone)
        changed.append(change)
    return changed


def partitions_at_build_time(changes: list[ch.Change]) -> list[ch.Change]:
    """A partitioned index is built after tables are created, replaced or detached, and
    before any is attached (ATTACH PARTITION indexes the table itself) or dropped: its
    parts are built on the partitions that are there then."""
    detached: set[QualifiedName] = set()
    replaced: dict[QualifiedName, Table] = {}
    created: list[Partition] = []
    for change in changes:
        match change:
            case ch.DetachPartition(table=name):
                detached.add(name)
            case ch.ReplaceTable(table=table):
                replaced[table.name] = table
            case ch.CreateTable(table=table) if table.partition_of is not None:
                created.append(Partition(table.name, table.partition_of, table.partitioned))
    if not (detached or replaced or created):
        return changes
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, ch.BuildPartitionedIndex | ch.ReplaceIndex) and change.partitions:
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


def _diff_enums(
    live: Catalog, enums: tuple[DeclaredEnum, ...], new_schemas: set[str], result: DiffResult
) -> None:
    """Declared enums: created, extended label by label, or dropped; never shrunk."""
    types = {t.name: t for t in live.types}
    for enum in enums:
        have = types.get(enum.name)
        if enum.state == "absent":
            if have is not None:
                result.changes.append(ch.DropEnum(enum.name))
            continue
        if have is None:
            schema = enum.name.schema
            if schema not in live.schemas and schema not in new_schemas:
                new_schemas.add(schema)
                result.changes.append(ch.CreateSchema(schema))
            result.changes.append(ch.CreateEnum(enum.name, enum.labels))
            continue
        if have.kind != "enum":
            result.unmanaged.append(f"type {enum.name} (a {have.kind}, not an enum)")
            continue
        _diff_enum_labels(have, enum, result)


def _diff_enum_labels(have: UserType, enum: DeclaredEnum, result: DiffResult) -> None:
    """ADD VALUE for each missing label, placed before the next declared label the type
    has (else after the last one); what ADD VALUE cannot do is reported as unmanaged."""
    labels = list(have.labels)
    for i, label in enumerate(enum.labels):
        if label in labels:
            continue
        following = next((x for x in enum.labels[i + 1 :] if x in labels), None)
        preceding = next((x for x in reversed(enum.labels[:i]) if x in labels), None)
        if following is not None:
            change = ch.AddEnumValue(enum.name, label, before=following)
            labels.insert(labels.index(following), label)
        elif preceding is not None and preceding != labels[-1]:
            change = ch.AddEnumValue(enum.name, label, after=preceding)
            labels.insert(labels.index(preceding) + 1, label)
        else:
            change = ch.AddEnumValue(enum.name, label)
            labels.append(label)
        result.changes.append(change)
    declared = set(enum.labels)
    for label in labels:
        if label not in declared:
            result.unmanaged.append(f"enum label {enum.name}.{label}")
    order = [x for x in labels if x in declared]
    if order != list(enum.labels):
        result.unmanaged.append(
            f"enum label order {enum.name} (live: {', '.join(order)}; "
            "ADD VALUE cannot reorder labels)"
        )


def _kept_unique_constraint(have: Table, index: Index) -> bool:
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


def _renamed_tables(live: Catalog, declared: DesiredState) -> dict[QualifiedName, QualifiedName]:
    """The file's table renames that this plan makes (old name: new name)."""
    return {
        t.renamed_from: t.name
        for t in declared.tables
        if t.renamed_from in live.tables and t.name not in live.tables
    }


def _live_table(live: Catalog, table: DeclaredTable, result: DiffResult) -> Table | None:
    have = live.tables.get(table.name)
    old = table.renamed_from
    if have is None and old is not None and old in live.tables:
        renamed = live.tables[old]
        key = renamed.primary_key
        derived: tuple[tuple[str, str, str], ...] = ()
        if key is not None and key.name == f"{old.name}_pkey" and table.primary_key is not None:
            new_key = f"{table.name.name}_pkey"
            if table.primary_key.name in (None, new_key) and len(new_key.encode()) < 64:
                derived = (("constraint", key.name, new_key),)
                renamed = replace(renamed, primary_key=replace(key, name=new_key))
        result.changes.append(ch.RenameTable(old, table.name, derived))
        return _serial_sequences_renamed(replace(renamed, name=table.name), old.name)
    return have


def _serial_sequences_renamed(table: Table, old: str) -> Table:
    """Defaults that read the old table's serial sequences (<old>_<column>_seq) read them
    under the new name: the rename renames them along (sequences.py)."""
    columns = []
    for column in table.columns:
        default = column.default
        for prefix in ("", f"{table.name.schema}."):
            new = f"{table.name.name}_{column.name}_seq"
            if default == f"nextval('{prefix}{old}_{column.name}_seq'::regclass)" and (
                len(new.encode()) < 64
            ):
                default = f"nextval('{prefix}{new}'::regclass)"
        columns.append(replace(column, default=default))
    return replace(table, columns=tuple(columns))


def _create_table(
    table: DeclaredTable, want: Table, result: DiffResult, replace_live: bool = False
) -> None:
    """A new table with its indexes and constraints; replace_live drops the live one first."""
    columns = tuple(
        replace(raw_column(d), nullable=c.nullable)
        for d, c in zip(table.present_columns(), want.columns, strict=False)
    )
    key = want.primary_key if want.primary_key and not want.primary_key.attached else None
    bare = replace(
        want, columns=columns, primary_key=key, indexes=(), unique=(), foreign_keys=(), checks=()
    )
    result.changes.append(ch.ReplaceTable(bare) if replace_live else ch.CreateTable(bare))
    for option, _, default in TABLE_OPTIONS:
        value = _option_text(getattr(want, option))
        if value != default and option != "unlogged":  # UNLOGGED is part of CREATE TABLE
            result.changes.append(ch.SetTableOption(want.name, option, value))
    for index in (i for i in want.indexes if not i.attached):  # those come with the parent's
        result.changes.append(ch.CreateIndex(want.name, index, concurrently=False))
    _diff_constraints(Table(want.name), want, False, result, new_table=True, file_table=table)


def _diff_table(
    have: Table,
    want: Table,
    table: DeclaredTable,
    prune: bool,
    result: DiffResult,
    live: Catalog,
) -> None:
    name = want.name
    _diff_partitioning(have, want, prune, result)
    kept_key = have.primary_key if want.primary_key is None and not prune else None
    pinned = frozenset(kept_key.columns) if kept_key else frozenset()
    # A partition's columns are its parent's: they change with the parent's.
    claimed = (
        _diff_columns(have, want, table, result, pinned)
        if want.partition_of is None
        else {c.name for c in have.columns}
    )
    for column in have.columns:
        if column.name not in claimed:
            if prune:
                cascade = have.dependents_of(column.name)
                result.changes.append(ch.DropColumn(name, column.name, cascade))
            else:
                result.unmanaged.append(f"column {name}.{column.name}")
    have = with_renamed_columns(have, result.column_renames)
    have = _with_renamed_constraints(have, table, result)
    taken_over = _diff_primary_key(have, want, table, prune, result)
    _diff_constraints(have, want, prune, result, file_table=table)
    _diff_indexes(have, want, table, prune, result, live, taken_over)
    _diff_table_options(have, table, prune, result)
    if have.comment != want.comment:
        if table.comment_given or prune:
            result.changes.append(ch.SetComment("table", name, name.name, want.comment))
        else:  # a comment the file does not give is left alone, like table options
            result.unmanaged.append(f"comment {name}")


TABLE_OPTIONS = (  # (option, what the plan calls it, PostgreSQL's default)
    ("unlogged", "unlogged", "false"),
    ("row_security", "row level security", "off"),
    ("replica_identity", "replica identity", "default"),
)


def _diff_table_options(have: Table, table: DeclaredTable, prune: bool, result: DiffResult) -> None:
    """Options the file gives are set; others, where not the default, are unmanaged."""
    for option, label, default in TABLE_OPTIONS:
        live = _option_text(getattr(have, option))
        declared = getattr(table, option)
        wanted = None if declared is None else _option_text(declared)
        if wanted is None:
            if live == default:
                continue
            if not prune:
                result.unmanaged.append(f"{label} {table.name} ({live})")
                continue
            wanted = default
        if wanted != live:
            result.changes.append(ch.SetTableOption(table.name, option, wanted))


def _option_text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


PARTS_VALIDATED_SINCE = 180000  # PostgreSQL 18's VALIDATE validates the derived ones too


def _validated_per_partition(
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
        if isinstance(change, ch.AddForeignKey) and change.not_valid and change.key.valid:
            referenced = desired.tables.get(change.key.references)
            if referenced is not None and referenced.partitioned:
                at_once.add((change.table, change.key.name))
                change = replace(change, not_valid=False)
        elif isinstance(change, ch.ValidateConstraint) and (change.table, change.name) in at_once:
            continue
        result.append(change)
    return result


def _with_renamed_constraints(have: Table, table: DeclaredTable, result: DiffResult) -> Table:
    """`renamed_from` on a key, unique, check or foreign key: RENAME CONSTRAINT (a catalog
    update, the index of a key or unique constraint renamed with it), then compared under
    the new name."""
    declared = [
        *((u.name, u.renamed_from) for u in table.unique),
        *((f.name, f.renamed_from) for f in table.foreign_keys),
        *((c.name, c.renamed_from) for c in table.checks),
    ]
    key = table.primary_key
    if key is not None and key.renamed_from:
        declared.append((key.name or f"{table.name.name}_pkey", key.renamed_from))
    live = {
        *(u.name for u in have.unique),
        *(f.name for f in have.foreign_keys),
        *(c.name for c in have.checks),
        *((have.primary_key.name,) if have.primary_key else ()),
    }
    renames = {
        old: new for new, old in declared if old and new not in live and old in live and old != new
    }
    if not renames:
        return have
    for old, new in renames.items():
        result.changes.append(ch.RenameConstraint(have.name, old, new))

    def named(item: Any) -> Any:
        return replace(item, name=renames.get(item.name, item.name))

    return replace(
        have,
        unique=tuple(named(u) for u in have.unique),
        foreign_keys=tuple(named(f) for f in have.foreign_keys),
        checks=tuple(named(c) for c in have.checks),
        primary_key=named(have.primary_key) if have.primary_key else None,
    )


def _diff_partition_columns(
    live_parent: Table | None,
    want: Table,
    table: DeclaredTable,
    parent: Table | None,
    prune: bool,
    result: DiffResult,
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
                ch.AlterColumnNullability(want.name, column.name, column.nullable, online)
            )
        if not same_default(current.default, column.default, column.type):
            differs.append(
                ch.AlterColumnDefault(want.name, column.name, current.default, column.default)
            )
        if differs and managed:
            result.changes.extend(differs)
        elif differs:
            result.unmanaged.append(
                f"partition column {want.name}.{column.name} (own NOT NULL or DEFAULT)"
            )


def _diff_partitioning(have: Table, want: Table, prune: bool, result: DiffResult) -> None:
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
        result.changes.append(ch.DetachPartition(want.name, have.partition_of))
    if want.partition_of is not None:
        bound = want.partition_bound or "DEFAULT"
        result.changes.append(ch.AttachPartition(want.name, want.partition_of, bound))


def _diff_columns(
    have: Table,
    want: Table,
    table: DeclaredTable,
    result: DiffResult,
    pinned: frozenset[str] = frozenset(),
) -> set[str]:
    """Column changes; returns the live column names the file accounts for."""
    name = want.name
    claimed: set[str] = set()
    live = {c.name: c for c in have.columns}
    wanted = {c.name: c for c in want.columns}
    for declared in table.columns:
        if declared.state == "absent":
            claimed.add(declared.name)
            if declared.name in live:
                cascade = have.dependents_of(declared.name)
                result.changes.append(ch.DropColumn(name, declared.name, cascade))
            continue
        target = wanted[declared.name]
        current = live.get(declared.name)
        old = live.get(declared.renamed_from or "")
        if current is None and declared.renamed_from and old is not None:
            claimed.add(declared.renamed_from)
            result.changes.append(ch.RenameColumn(name, declared.renamed_from, declared.name))
            current = replace(old, name=declared.name)
        claimed.add(declared.name)
        if current is None:
            column = replace(raw_column(declared), nullable=target.nullable)
            result.changes.append(
                ch.AddColumn(name, column, declared.backfill, declared.backfill_where)
            )
            continue
        _diff_column(name, current, target, declared, result, pinned)
    return claimed


def owned_sequences(
    table: QualifiedName, want: Column, declared: DeclaredColumn
) -> list[ch.Change]:
    """An existing column that becomes serial needs its sequence before the default."""
    base = SERIAL_TYPES.get(declared.type.strip().lower())
    if base is None or want.default is None:
        return []
    return [
        ch.CreateOwnedSequence(table, want.name, sequence, base)
        for sequence in referenced_sequences(want.default)
    ]


def _diff_column(
    table: QualifiedName,
    have: Column,
    want: Column,
    declared: DeclaredColumn,
    result: DiffResult,
    pinned: frozenset[str] = frozenset(),
) -> None:
    """One column's changes; pinned columns stay NOT NULL (an unmanaged primary key's)."""
    out = result.changes
    if have.generated != want.generated:
        out.append(ch.ReplaceGeneratedColumn(table, replace(raw_column(declared), name=want.name)))
        return
    default = have.default  # the default once the changes below have run
    if have.type != want.type or have.collation != want.collation:
        carried = have.default is not None and have.identity is None
        out.append(
            ch.AlterColumnType(
                table,
                want.name,
                have.type,
                want.type,
                want.collation,
                declared.using,
                old_default=have.default if carried else None,
                new_default=want.default if carried and want.identity is None else None,
            )
        )
        if carried:
            default = want.default if want.identity is None else None
        base = SERIAL_TYPES.get(declared.type.strip().lower())
        if base is not None and want.default is not None and want.default == have.default:
            out.extend(
                ch.AlterSequenceType(table, want.name, sequence, base)
                for sequence in referenced_sequences(want.default)
            )
    nullability = ch.AlterColumnNullability(table, want.name, want.nullable)
    if have.nullable and not want.nullable:
        out.append(nullability)  # before ADD IDENTITY, which needs NOT NULL
    new_options = (
        have.identity is not None
        and want.identity is not None
        and have.identity_options != want.identity_options
    )
    if have.identity != want.identity or new_options:
        if have.identity is None and default is not None:
            out.append(ch.AlterColumnDefault(table, want.name, default, None))
        out.append(
            ch.AlterColumnIdentity(
                table,
                want.name,
                have.identity,
                want.identity,
                want.identity_options,
                set_options=new_options,
            )
        )
        default = None
    if want.identity is None and not same_default(default, want.default, want.type):
        out.extend(owned_sequences(table, want, declared))
        out.append(ch.AlterColumnDefault(table, want.name, default, want.default))
    if want.nullable and not have.nullable and want.name not in pinned:
        out.append(nullability)
    if have.comment != want.comment:
        out.append(ch.SetComment("column", table, want.name, want.comment))


def _diff_primary_key(
    have: Table, want: Table, table: DeclaredTable, prune: bool, result: DiffResult
) -> set[str]:
    """Primary key changes; returns the name of a live index the new key takes over.

    A partition's key that is part of its parent's comes and goes with the parent's."""
    old, new = have.primary_key, want.primary_key
    if (old and old.attached and (new is None or new.attached)) or (
        old is None and new and new.attached
    ):
        return set()
    if old == new:
        return set()
    named = table.primary_key is not None and table.primary_key.name is not None
    if old and new and old.columns == new.columns and not named:
        return set()  # the default name follows the table's; only the columns are declared
    if old and new is None:
        if prune:
            result.changes.append(ch.DropPrimaryKey(want.name, old))
        else:
            result.unmanaged.append(f"primary key {want.name}.{old.name}")
        return set()
    if old:
        result.changes.append(ch.DropPrimaryKey(want.name, old))
    if new is None:
        return set()
    existing = have.index(new.name)
    keys = tuple(IndexKey(c) for c in new.columns)
    if (
        existing
        and not have.partitioned  # ADD PRIMARY KEY USING INDEX is refused there
        and existing.unique
        and existing.valid
        and existing.keys == keys
        and (existing.where is None and not existing.include)
    ):
        result.changes.append(ch.AddPrimaryKey(want.name, new, index="attach"))
        return {existing.name}
    mode = "plain" if have.partitioned else "build"
    result.changes.append(ch.AddPrimaryKey(want.name, new, index=mode))
    return set()


def _diff_constraints(
    have: Table,
    want: Table,
    prune: bool,
    result: DiffResult,
    new_table: bool = False,
    file_table: DeclaredTable | None = None,
) -> None:
    """UNIQUE, CHECK and FOREIGN KEY constraints, by name; a changed one is dropped and added.

    On an existing table, checks and foreign keys are added NOT VALID and validated in a
    separate step, and a unique constraint is attached to a concurrently built index.
    """
    name = want.name
    out = result.changes
    written_checks = {c.name: c.expr for c in file_table.checks} if file_table else {}
    for unique in want.unique:
        current = next((u for u in have.unique if u.name == unique.name), None)
        if current != unique:
            if current is not None:
                out.append(ch.DropConstraint(name, unique.name, "unique"))
            online = not new_table and not have.partitioned
            out.append(ch.AddUnique(name, unique, using_index=online))
    for check in want.checks:
        current_check = next((c for c in have.checks if c.name == check.name), None)
        if current_check is not None and current_check.same_definition(check):
            if current_check.valid == check.valid:
                continue
            if check.valid:
                out.append(ch.ValidateConstraint(name, check.name))
                continue
        # A valid constraint is made NOT VALID only by adding it again.
        if current_check is not None:
            out.append(ch.DropConstraint(name, check.name, "check"))
        # Added as written: PostgreSQL's printed form does not always parse back to
        # itself (an IN list on varchar), the text the scratch server checked does.
        written = written_checks.get(check.name)
        added = replace(check, expression=written) if written is not None else check
        out.append(ch.AddCheck(name, added, not_valid=not new_table or not check.valid))
        if not new_table and check.valid:
            out.append(ch.ValidateConstraint(name, check.name))
    for key in want.foreign_keys:
        # NOT VALID is not allowed on a partitioned table: there it is added validated.
        if have.partitioned or want.partitioned:
            key = replace(key, valid=True)
        current_key = next((k for k in have.foreign_keys if k.name == key.name), None)
        if current_key is not None and current_key.same_definition(key):
            if current_key.valid == key.valid:
                continue
            if key.valid:
                out.append(ch.ValidateConstraint(name, key.name))
                continue
        if current_key is not None:
            out.append(ch.DropConstraint(name, key.name, "foreign_key"))
        later = not new_table and not have.partitioned
        out.append(ch.AddForeignKey(name, key, not_valid=later or not key.valid))
        if later and key.valid:
            out.append(ch.ValidateConstraint(name, key.name))
    for exclusion in want.exclusions:
        current_exclusion = next((x for x in have.exclusions if x.name == exclusion.name), None)
        if current_exclusion == exclusion:
            continue
        if current_exclusion is not None:
            out.append(ch.DropConstraint(name, exclusion.name, "exclusion"))
        out.append(ch.AddExclusion(name, exclusion, new_table))
    declared = {
        *(u.name for u in want.unique),
        *(c.name for c in want.checks),
        *(k.name for k in want.foreign_keys),
        *(x.name for x in want.exclusions),
    }
    existing = [
        *(("exclusion", x.name) for x in have.exclusions),
        *(("unique", u.name) for u in have.unique),
        *(("check", c.name) for c in have.checks),
        *(("foreign_key", k.name) for k in have.foreign_keys),
    ]
    declared_indexes = {i.name for i in want.indexes}  # a unique index may be this constraint
    for kind, constraint in existing:
        if constraint in declared or (kind == "unique" and constraint in declared_indexes):
            continue
        if (name, constraint) in result.orphaned and kind in ("unique", "exclusion"):
            result.swallowed.add((name, constraint))  # dropped with its parent's index
            continue
        if prune:
            out.append(ch.DropConstraint(name, constraint, kind))
        else:
            result.unmanaged.append(f"{kind.replace('_', ' ')} {name}.{constraint}")


def _equal_partition_indexes(
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


def _part_names(
    live: Catalog,
    partitions: tuple[Partition, ...],
    index: Index,
    result: DiffResult,
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


def _diff_indexes(
    have: Table,
    want: Table,
    table: DeclaredTable,
    prune: bool,
    result: DiffResult,
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
                result.changes.append(result.dropping(ch.DropIndex(name, current, online)))
            continue
        target = want.index(declared.name)
        assert target is not None, f"normalized table {name} lacks index {declared.name}"
        if current is None and declared.renamed_from and have.index(declared.renamed_from):
            claimed.add(declared.renamed_from)
            result.changes.append(ch.RenameIndex(name, declared.renamed_from, declared.name))
            current = replace(have.index(declared.renamed_from) or target, name=declared.name)
        if current is None and _kept_unique_constraint(have, target):
            continue  # an undeclared UNIQUE constraint of that name already is this index
        if current is not None and (name, current.name) in result.orphaned:
            current = None  # part of a parent's index this plan drops: built again
        piecemeal = have.partitioned and bool(have.partitions)
        if piecemeal and (current is None or not current.valid):
            adopted = _equal_partition_indexes(have, target, live)
            result.adopted.update(adopted)
            done = current.parts if current is not None else ()
            result.changes.append(
                ch.BuildPartitionedIndex(
                    name,
                    target,
                    have.partitions,
                    adopted,
                    done,
                    resume=current is not None,
                    part_names=_part_names(live, have.partitions, target, result),
                )
            )
        elif current is None:
            result.changes.append(ch.CreateIndex(name, target, online))
        elif not current.valid:
            result.changes.append(ch.RebuildInvalidIndex(name, target, online))
        elif not current.same_definition(target):
            parts = have.partitions if have.partitioned else ()
            names = _part_names(live, parts, target, result, current)
            replacing = ch.ReplaceIndex(name, current, target, online, parts, names)
            result.changes.append(result.dropping(replacing))
        elif current.comment != target.comment:
            result.changes.append(ch.SetComment("index", name, target.name, target.comment))
    for index in have.indexes:
        if index.name in claimed or index.name in taken_over or index.attached:
            continue
        if (name, index.name) in result.adopted:
            continue  # becomes a part of its parent's index
        if prune:
            result.changes.append(result.dropping(ch.DropIndex(name, index, online)))
        else:
            result.unmanaged.append(f"index {name}.{index.name}")
