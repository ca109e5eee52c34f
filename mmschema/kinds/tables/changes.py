"""The changes of tables, partitions, constraints and indexes: frozen dataclasses, each
with its plan phase, what plans call it and what it is about; the table a change works on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, ClassVar

from mmschema.kinds.base import KindChange, Phase
from mmschema.kinds.tables.model import (
    Check,
    Exclusion,
    ForeignKey,
    Index,
    Partition,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from mmschema.model import QualifiedName

if TYPE_CHECKING:
    from mmschema.changes import Change


class TableChange(KindChange):
    """A change of the table family: plans call it `kind_label`, and show what it is about
    as its `about` attributes joined with dots (a table, or `table.constraint`)."""

    kind_label: ClassVar[str]
    about: ClassVar[tuple[str, ...]] = ("table",)

    @property
    def kind_name(self) -> str:
        return self.kind_label

    @property
    def subject(self) -> str:
        return ".".join(str(attrgetter(path)(self)) for path in self.about)


@dataclass(frozen=True)
class RenameTable(TableChange):
    old: QualifiedName
    new: QualifiedName
    # Names PostgreSQL derived from the old table name, renamed along as CREATE TABLE under
    # the new name would give them: ("constraint" | "sequence", old name, new name).
    derived: tuple[tuple[str, str, str], ...] = ()
    phase = Phase.RENAME_TABLES
    kind_label = "rename_table"
    about = ("new",)


@dataclass(frozen=True)
class CreateTable(TableChange):
    table: Table
    phase = Phase.CREATE_TABLES
    kind_label = "create_table"
    about = ("table.name",)


@dataclass(frozen=True)
class DropTable(TableChange):
    table: QualifiedName
    cascade: tuple[str, ...] = ()  # what depends on it and goes too (DROP ... CASCADE)
    early: bool = False  # a name it holds (table, index, sequence) is created by the plan

    @property
    def phase(self) -> Phase:
        """Last, unless it must make room: then before anything is created."""
        return Phase.FREE_NAMES if self.early else Phase.DROP_TABLES

    kind_label = "drop_table"


@dataclass(frozen=True)
class ReplaceTable(TableChange):
    """A table dropped and created again: what no ALTER can change (its partition key)."""

    table: Table
    phase = Phase.CREATE_TABLES
    kind_label = "replace_table"
    about = ("table.name",)


@dataclass(frozen=True)
class AttachPartition(TableChange):
    table: QualifiedName
    parent: QualifiedName
    bound: str
    phase = Phase.ATTACH_PARTITIONS
    kind_label = "attach_partition"


@dataclass(frozen=True)
class DetachPartition(TableChange):
    table: QualifiedName
    parent: QualifiedName
    phase = Phase.DETACH_PARTITIONS
    kind_label = "detach_partition"


@dataclass(frozen=True)
class AddPrimaryKey(TableChange):
    table: QualifiedName
    key: PrimaryKey
    # On an existing table: attach to an index built CONCURRENTLY first ("build"), or to
    # an existing unique index of that name ("attach"); "plain" builds it under the lock.
    index: str = "plain"
    phase = Phase.ADD_CONSTRAINTS
    kind_label = "add_primary_key"
    about = ("table", "key.name")


@dataclass(frozen=True)
class DropPrimaryKey(TableChange):
    table: QualifiedName
    key: PrimaryKey
    phase = Phase.DROP_CONSTRAINTS
    kind_label = "drop_primary_key"
    about = ("table", "key.name")


@dataclass(frozen=True)
class AddUnique(TableChange):
    """A UNIQUE constraint: on an existing table, attached to a concurrently built index."""

    table: QualifiedName
    constraint: UniqueConstraint
    using_index: bool = True
    phase = Phase.ADD_CONSTRAINTS
    kind_label = "add_unique"
    about = ("table", "constraint.name")


@dataclass(frozen=True)
class AddForeignKey(TableChange):
    table: QualifiedName
    key: ForeignKey
    not_valid: bool = True  # validated by a ValidateConstraint in its own transaction
    phase = Phase.ADD_FOREIGN_KEYS
    kind_label = "add_foreign_key"
    about = ("table", "key.name")


@dataclass(frozen=True)
class AddCheck(TableChange):
    table: QualifiedName
    check: Check
    not_valid: bool = True
    phase = Phase.ADD_CONSTRAINTS
    kind_label = "add_check"
    about = ("table", "check.name")


@dataclass(frozen=True)
class AddExclusion(TableChange):
    table: QualifiedName
    exclusion: Exclusion
    new_table: bool = False  # on a table this plan creates: nothing waits for it
    phase = Phase.ADD_CONSTRAINTS
    kind_label = "add_exclusion"
    about = ("table", "exclusion.name")


@dataclass(frozen=True)
class ValidateConstraint(TableChange):
    table: QualifiedName
    name: str
    phase = Phase.VALIDATE_CONSTRAINTS
    kind_label = "validate_constraint"
    about = ("table", "name")


@dataclass(frozen=True)
class DropConstraint(TableChange):
    table: QualifiedName
    name: str
    kind: str  # "unique" | "foreign_key" | "check" | "exclusion"
    before_tables: bool = False  # a foreign key to a table that is dropped and re-created

    @property
    def phase(self) -> Phase:
        """Foreign keys go first: a unique constraint they rely on cannot be dropped before."""
        if self.before_tables:
            return Phase.UNLINK_TABLES
        return Phase.DROP_FOREIGN_KEYS if self.kind == "foreign_key" else Phase.DROP_CONSTRAINTS

    kind_label = "drop_constraint"
    about = ("table", "name")


@dataclass(frozen=True)
class CreateIndex(TableChange):
    table: QualifiedName
    index: Index
    concurrently: bool = True
    on_new_parent: bool = False  # a new partitioned table's: after its partitions' keys
    # A unique index over a column whose type changes, made again in that change's
    # transaction, under its ACCESS EXCLUSIVE lock (see dependents.py).
    in_type_change: bool = False
    kind_label = "create_index"
    about = ("table", "index.name")

    @property
    def phase(self) -> Phase:
        if self.in_type_change:
            return Phase.ALTER_COLUMNS
        return Phase.PARENT_INDEXES if self.on_new_parent else Phase.BUILD_INDEXES


@dataclass(frozen=True)
class BuildPartitionedIndex(TableChange):
    """An index on a partitioned table that has partitions, built without blocking writes:
    created ON ONLY the parent, built CONCURRENTLY on each partition (or taken over where a
    partition has an equal index of its own), and attached piece by piece."""

    table: QualifiedName
    index: Index
    partitions: tuple[Partition, ...]
    adopted: tuple[tuple[QualifiedName, str], ...] = ()  # (partition, its equal index)
    # An earlier build's parts, (partition, index, valid): a valid one is kept as it is,
    # an invalid one (a partitioned partition's, not complete yet) is completed.
    done: tuple[tuple[QualifiedName, str, bool], ...] = ()
    resume: bool = False  # the parent's index exists (INVALID): only the missing parts
    # The parts' names, as PostgreSQL would choose them (others: chosen the same way).
    part_names: tuple[tuple[QualifiedName, str], ...] = ()
    phase = Phase.BUILD_INDEXES
    kind_label = "create_index"
    about = ("table", "index.name")


@dataclass(frozen=True)
class DropIndex(TableChange):
    table: QualifiedName
    index: Index
    concurrently: bool = True
    # Partitions' constraints its parts back, which go with it (DROP INDEX ... CASCADE):
    # PostgreSQL refuses to drop either one alone.
    cascade: tuple[QualifiedName, ...] = ()
    in_type_change: bool = False  # dropped in the transaction of a type change it reads
    kind_label = "drop_index"
    about = ("table", "index.name")

    @property
    def phase(self) -> Phase:
        return Phase.ALTER_COLUMNS if self.in_type_change else Phase.DROP_INDEXES


@dataclass(frozen=True)
class RenameConstraint(TableChange):
    """ALTER TABLE ... RENAME CONSTRAINT: a catalog update (an index-backed one renames its
    index too)."""

    table: QualifiedName
    old: str
    new: str
    phase = Phase.RENAME_COLUMNS
    kind_label = "rename_constraint"
    about = ("table", "new")


@dataclass(frozen=True)
class RenameIndex(TableChange):
    table: QualifiedName
    old: str
    new: str
    phase = Phase.RENAME_COLUMNS
    kind_label = "rename_index"
    about = ("table", "new")


@dataclass(frozen=True)
class ReplaceIndex(TableChange):
    """A changed index: built under a temporary name, the old one dropped, then renamed."""

    table: QualifiedName
    old: Index
    new: Index
    concurrently: bool = True  # False on partitioned tables: one transaction instead
    # On a partitioned table with partitions: the new one is built piece by piece there
    # (as BuildPartitionedIndex does) and its parts renamed after the swap.
    partitions: tuple[Partition, ...] = ()
    part_names: tuple[tuple[QualifiedName, str], ...] = ()  # the parts' lasting names
    phase = Phase.BUILD_INDEXES
    kind_label = "replace_index"
    about = ("table", "new.name")


@dataclass(frozen=True)
class RebuildInvalidIndex(TableChange):
    """An index left INVALID by a failed concurrent build: dropped and built again."""

    table: QualifiedName
    index: Index
    concurrently: bool = True
    phase = Phase.BUILD_INDEXES
    kind_label = "rebuild_invalid_index"
    about = ("table", "index.name")


@dataclass(frozen=True)
class SetTableOption(TableChange):
    """unlogged ("true"/"false"), row_security (off/on/forced) or replica_identity."""

    table: QualifiedName
    option: str
    value: str
    phase = Phase.COMMENTS  # after the indexes a replica identity may name
    kind_label = "set_table_option"
    about = ("table", "option")


@dataclass(frozen=True)
class EnableRowSecurity(SetTableOption):
    """row_security on or forced: after the table's policies are made."""

    phase = Phase.ROW_SECURITY


def table_option(table: QualifiedName, option: str, value: str) -> SetTableOption:
    """The change setting a table option, run in the phase its value needs."""
    enables = option == "row_security" and value in ("on", "forced")
    return (EnableRowSecurity if enables else SetTableOption)(table, option, value)


@dataclass(frozen=True)
class SetComment(TableChange):
    target: str  # "table" | "column" | "index"
    table: QualifiedName
    name: str  # column or index name; the table's own name for "table"
    comment: str | None
    phase = Phase.COMMENTS
    kind_label = "set_comment"

    @property
    def subject(self) -> str:
        return str(self.table) if self.target == "table" else f"{self.table}.{self.name}"


def table_before(change: Change) -> QualifiedName | None:
    """The existing table a change works on, by the name it has while the change runs."""
    match change:
        case RenameTable(old=old):
            return old
        case CreateTable():
            return None
        case ReplaceTable(table=replaced):
            return replaced.name
    table = getattr(change, "table", None)
    return table if isinstance(table, QualifiedName) else None


def table_after(change: Change) -> QualifiedName | None:
    """The table a change leaves behind (a created or renamed one by its new name)."""
    match change:
        case RenameTable(new=new):
            return new
        case CreateTable(table=created) | ReplaceTable(table=created):
            return created.name
    table = getattr(change, "table", None)
    return table if isinstance(table, QualifiedName) else None


def renamed_tables(changes: Iterable[Change]) -> dict[QualifiedName, QualifiedName]:
    """The tables the plan renames: new name -> old name."""
    return {c.new: c.old for c in changes if isinstance(c, RenameTable)}
