"""The changes of tables, partitions, constraints and indexes: frozen dataclasses, each
with its plan phase."""

from __future__ import annotations

from dataclasses import dataclass

from mmschema.kinds.base import Phase
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


@dataclass(frozen=True)
class RenameTable:
    old: QualifiedName
    new: QualifiedName
    # Names PostgreSQL derived from the old table name, renamed along as CREATE TABLE under
    # the new name would give them: ("constraint" | "sequence", old name, new name).
    derived: tuple[tuple[str, str, str], ...] = ()
    phase = Phase.RENAME_TABLES


@dataclass(frozen=True)
class CreateTable:
    table: Table
    phase = Phase.CREATE_TABLES


@dataclass(frozen=True)
class DropTable:
    table: QualifiedName
    cascade: tuple[str, ...] = ()  # what depends on it and goes too (DROP ... CASCADE)
    early: bool = False  # a name it holds (table, index, sequence) is created by the plan

    @property
    def phase(self) -> Phase:
        """Last, unless it must make room: then before anything is created."""
        return Phase.FREE_NAMES if self.early else Phase.DROP_TABLES


@dataclass(frozen=True)
class ReplaceTable:
    """A table dropped and created again: what no ALTER can change (its partition key)."""

    table: Table
    phase = Phase.CREATE_TABLES


@dataclass(frozen=True)
class AttachPartition:
    table: QualifiedName
    parent: QualifiedName
    bound: str
    phase = Phase.ATTACH_PARTITIONS


@dataclass(frozen=True)
class DetachPartition:
    table: QualifiedName
    parent: QualifiedName
    phase = Phase.DETACH_PARTITIONS


@dataclass(frozen=True)
class AddPrimaryKey:
    table: QualifiedName
    key: PrimaryKey
    # On an existing table: attach to an index built CONCURRENTLY first ("build"), or to
    # an existing unique index of that name ("attach"); "plain" builds it under the lock.
    index: str = "plain"
    phase = Phase.ADD_CONSTRAINTS


@dataclass(frozen=True)
class DropPrimaryKey:
    table: QualifiedName
    key: PrimaryKey
    phase = Phase.DROP_CONSTRAINTS


@dataclass(frozen=True)
class AddUnique:
    """A UNIQUE constraint: on an existing table, attached to a concurrently built index."""

    table: QualifiedName
    constraint: UniqueConstraint
    using_index: bool = True
    phase = Phase.ADD_CONSTRAINTS


@dataclass(frozen=True)
class AddForeignKey:
    table: QualifiedName
    key: ForeignKey
    not_valid: bool = True  # validated by a ValidateConstraint in its own transaction
    phase = Phase.ADD_FOREIGN_KEYS


@dataclass(frozen=True)
class AddCheck:
    table: QualifiedName
    check: Check
    not_valid: bool = True
    phase = Phase.ADD_CONSTRAINTS


@dataclass(frozen=True)
class AddExclusion:
    table: QualifiedName
    exclusion: Exclusion
    new_table: bool = False  # on a table this plan creates: nothing waits for it
    phase = Phase.ADD_CONSTRAINTS


@dataclass(frozen=True)
class ValidateConstraint:
    table: QualifiedName
    name: str
    phase = Phase.VALIDATE_CONSTRAINTS


@dataclass(frozen=True)
class DropConstraint:
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


@dataclass(frozen=True)
class CreateIndex:
    table: QualifiedName
    index: Index
    concurrently: bool = True
    phase = Phase.BUILD_INDEXES


@dataclass(frozen=True)
class BuildPartitionedIndex:
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


@dataclass(frozen=True)
class DropIndex:
    table: QualifiedName
    index: Index
    concurrently: bool = True
    # Partitions' constraints its parts back, which go with it (DROP INDEX ... CASCADE):
    # PostgreSQL refuses to drop either one alone.
    cascade: tuple[QualifiedName, ...] = ()
    phase = Phase.DROP_INDEXES


@dataclass(frozen=True)
class RenameConstraint:
    """ALTER TABLE ... RENAME CONSTRAINT: a catalog update (an index-backed one renames its
    index too)."""

    table: QualifiedName
    old: str
    new: str
    phase = Phase.RENAME_COLUMNS


@dataclass(frozen=True)
class RenameIndex:
    table: QualifiedName
    old: str
    new: str
    phase = Phase.RENAME_COLUMNS


@dataclass(frozen=True)
class ReplaceIndex:
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


@dataclass(frozen=True)
class RebuildInvalidIndex:
    """An index left INVALID by a failed concurrent build: dropped and built again."""

    table: QualifiedName
    index: Index
    concurrently: bool = True
    phase = Phase.BUILD_INDEXES


@dataclass(frozen=True)
class SetTableOption:
    """unlogged ("true"/"false"), row_security (off/on/forced) or replica_identity."""

    table: QualifiedName
    option: str
    value: str
    phase = Phase.COMMENTS  # after the indexes a replica identity may name


@dataclass(frozen=True)
class SetComment:
    target: str  # "table" | "column" | "index"
    table: QualifiedName
    name: str  # column or index name; the table's own name for "table"
    comment: str | None
    phase = Phase.COMMENTS
