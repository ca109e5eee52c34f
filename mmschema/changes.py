"""The kinds of change a plan is made of: one frozen dataclass each, with its plan phase."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from mmschema.backfill import BackfillJob
from mmschema.kinds.tables.model import (
    Check,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    Partition,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from mmschema.model import Policy, QualifiedName, View


class Phase(IntEnum):
    """Order in which changes run; within a phase, changes keep the diff's order."""

    EXTENSIONS = 0
    SCHEMAS = 1
    ENUMS = 2  # created or extended before any table uses them
    DROP_UNMANAGED = 3  # --prune: undeclared views and triggers on managed tables
    FUNCTIONS = 4  # functions the tables' defaults, checks, indexes or generated columns call
    RENAME_TABLES = 5
    UNLINK_TABLES = 6  # foreign keys to tables about to be re-created
    FREE_NAMES = 7  # tables dropped early: a name they hold is taken by something created
    CREATE_TABLES = 8
    DETACH_PARTITIONS = 9
    RENAME_COLUMNS = 10
    DROP_FOREIGN_KEYS = 11
    DROP_INDEXES = 12
    DROP_CONSTRAINTS = 13
    ADD_COLUMNS = 14
    ALTER_COLUMNS = 15
    BUILD_INDEXES = 16
    ADD_CONSTRAINTS = 17
    ADD_FOREIGN_KEYS = 18
    VALIDATE_CONSTRAINTS = 19
    ATTACH_PARTITIONS = 20  # once the table has what its parent requires
    COMMENTS = 21
    LATE_FUNCTIONS = 22  # routines reading tables, or called by none: after the tables
    VIEWS = 23  # after the tables and columns they read, before those are dropped
    DROP_COLUMNS = 24
    DROP_TABLES = 25
    DROP_FUNCTIONS = 26  # after what called them is gone, before the types they use
    DROP_TYPES = 27  # after the columns and tables that may have used them
    DROP_SCHEMAS = 28  # `schemas:` marked absent: after everything they held


class KindChange:
    """A change that a kind module (mmschema/kinds/) defines: it names its kind and object."""

    phase: Phase

    @property
    def kind_name(self) -> str:
        raise NotImplementedError

    @property
    def subject(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CreateExtension:
    name: str
    phase = Phase.EXTENSIONS


@dataclass(frozen=True)
class CreateSchema:
    name: str
    phase = Phase.SCHEMAS


@dataclass(frozen=True)
class CreateEnum:
    name: QualifiedName
    labels: tuple[str, ...]
    phase = Phase.ENUMS


@dataclass(frozen=True)
class AddEnumValue:
    """ALTER TYPE ... ADD VALUE: commits alone, before anything uses the new label."""

    name: QualifiedName
    label: str
    before: str | None = None  # BEFORE this label; AFTER `after`; else at the end
    after: str | None = None
    phase = Phase.ENUMS


@dataclass(frozen=True)
class DropEnum:
    name: QualifiedName
    phase = Phase.DROP_TYPES


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
class RenameColumn:
    table: QualifiedName
    old: str
    new: str
    phase = Phase.RENAME_COLUMNS


@dataclass(frozen=True)
class AddColumn:
    table: QualifiedName
    column: Column
    backfill: str | None = None
    backfill_where: str | None = None
    # Every existing row gets a computed value (a STORED generated column, a serial, a
    # volatile default): the table is rewritten.
    rewrites: bool = False
    phase = Phase.ADD_COLUMNS


@dataclass(frozen=True)
class DropColumn:
    table: QualifiedName
    column: str
    cascade: tuple[str, ...] = ()  # what depends on it and goes too (DROP ... CASCADE)
    phase = Phase.DROP_COLUMNS


@dataclass(frozen=True)
class AlterColumnType:
    table: QualifiedName
    column: str
    old_type: str
    new_type: str
    collation: str | None = None
    using: str | None = None
    cast: str | None = None  # typecast.Cast value once classified against the target
    # A live default is dropped first and the wanted one set after, in one transaction:
    # the old default may not cast to the new type.
    old_default: str | None = None
    new_default: str | None = None
    online_refused: str | None = None  # why a big table's change is not made online
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class AlterColumnDefault:
    table: QualifiedName
    column: str
    old: str | None
    new: str | None
    # The sequence the old default used and the column owns (a serial's): dropped with it.
    drop_sequence: str | None = None
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class CreateOwnedSequence:
    """The sequence a serial column's default needs, when an existing column becomes serial."""

    table: QualifiedName
    column: str
    sequence: str  # as nextval() names it, e.g. public.t_id_seq
    type: str
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class AlterSequenceType:
    """A serial column's sequence made as wide as its new type (serial to bigserial): an
    `integer` sequence would still run out at 2^31 under a bigint column."""

    table: QualifiedName
    column: str
    sequence: str  # as nextval() names it
    type: str
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class AlterColumnNullability:
    table: QualifiedName
    column: str
    nullable: bool
    online: bool = True  # SET NOT NULL through a validated CHECK (existing tables)
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class AlterColumnIdentity:
    """Identity added, dropped, switched (always / by default), or its sequence options set:
    `options` (non-default ones, as in Column.identity_options) when new is not None."""

    table: QualifiedName
    column: str
    old: str | None
    new: str | None
    options: tuple[tuple[str, str], ...] = ()
    set_options: bool = False  # the live identity's options change (to `options`)
    restart: str | None = None  # RESTART WITH this: the position is outside the new bounds
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class ReplaceGeneratedColumn:
    """A generation expression changed: the column is dropped and added again."""

    table: QualifiedName
    column: Column
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class DropView:
    """A view that blocks a change of `table` (a type change of a column it reads)."""

    table: QualifiedName
    view: View
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class CreateView:
    """The view again, as it was, once `table` changed (same transaction when it can be)."""

    table: QualifiedName
    view: View
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class DropPolicy:
    """A policy that blocks a type change of a column it reads."""

    table: QualifiedName
    policy: Policy
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class CreatePolicy:
    """The policy again, as it was, in the transaction of the change it blocked."""

    table: QualifiedName
    policy: Policy
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class RetypeUnderGenerated:
    """Type changes of columns that stored generated columns read: in one transaction,
    the generated columns are dropped, the types changed, and the columns added again."""

    table: QualifiedName
    generated: tuple[Column, ...]
    retypes: tuple[AlterColumnType, ...]
    phase = Phase.ALTER_COLUMNS


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


# Work an earlier apply left unfinished (mmschema.inflight): shown by plan and drift,
# finished by the next apply.


@dataclass(frozen=True)
class ResumeBackfill:
    """A backfill an interrupted apply left unfinished (the history's statements it takes over)."""

    job: BackfillJob
    statement_ids: tuple[int, ...]
    progress: str
    phase = Phase.EXTENSIONS  # before anything else, as the apply that started it would

    @property
    def table(self) -> QualifiedName:
        return self.job.table


# An online type change (mmschema.expand): expand, backfill, contract in one short swap.


@dataclass(frozen=True)
class RetypeExpand:
    """The shadow column of the new type, and the trigger that keeps it in sync."""

    table: QualifiedName
    column: str
    shadow: str
    new_type: str
    value: str  # the new value from the row's columns: the USING expression, or a cast
    trigger: str  # the trigger's name, and its function's (in the table's schema)
    add_column: bool = True  # False: an earlier apply added it
    add_trigger: bool = True
    # CHECK (shadow IS NOT NULL) NOT VALID to add: new rows are checked at once, old ones
    # once backfilled (validated before the swap, which then sets NOT NULL without a scan)
    check: str | None = None
    # Checks that read the column, made again over the shadow: (name, expression), NOT VALID
    checks: tuple[tuple[str, str], ...] = ()
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class RetypeBackfill:
    """The shadow columns of a table's online type changes filled, in one pass, for the
    rows there were when the triggers went in."""

    table: QualifiedName
    parts: tuple[tuple[str, str, str], ...]  # (column, its shadow, the shadow's value)
    progress: str | None = None  # what an earlier apply left (work in flight)
    phase = Phase.ALTER_COLUMNS

    @property
    def column(self) -> str:
        return ", ".join(column for column, _, _ in self.parts)


@dataclass(frozen=True)
class RetypeSwap:
    """One short transaction: the old column dropped, the shadow renamed in its place, its
    keys attached USING INDEX, its indexes renamed, foreign keys added back NOT VALID."""

    table: QualifiedName
    column: str
    shadow: str
    new_type: str
    trigger: str
    not_null_check: str | None = None  # a valid CHECK (shadow IS NOT NULL): SET NOT NULL
    default: str | None = None
    comment: str | None = None
    sequences: tuple[str, ...] = ()  # owned by the column: owned by the new one, AS new_type
    # An identity column's: moved to the new column, going on from the old one's next value
    identity: str | None = None  # "always" | "by_default"
    identity_options: tuple[tuple[str, str], ...] = ()  # all but start, as the live one has
    primary_key: tuple[str, str] | None = None  # (constraint, unique index on the shadow)
    unique: tuple[tuple[UniqueConstraint, str], ...] = ()  # (constraint, its index)
    indexes: tuple[tuple[str, str], ...] = ()  # (index name, the shadow's index): renamed
    checks: tuple[tuple[str, str], ...] = ()  # (check name, the shadow's check): renamed
    # Views (deepest last) and policies that read the column: dropped before the old
    # column, created again as they were once the shadow has its name
    views: tuple[View, ...] = ()
    policies: tuple[Policy, ...] = ()
    locked: tuple[QualifiedName, ...] = ()  # other tables whose foreign keys move
    drop_foreign_keys: tuple[tuple[QualifiedName, str], ...] = ()
    add_foreign_keys: tuple[tuple[QualifiedName, ForeignKey], ...] = ()
    phase = Phase.ALTER_COLUMNS


@dataclass(frozen=True)
class RetypeAbandon:
    """An online type change the file no longer wants, before its swap: trigger, function
    and shadow column (with its indexes and check) dropped."""

    table: QualifiedName
    column: str
    shadow: str
    trigger: str | None
    progress: str | None = None
    phase = Phase.ALTER_COLUMNS


Change = (
    CreateExtension
    | CreateSchema
    | CreateEnum
    | AddEnumValue
    | DropEnum
    | RenameTable
    | CreateTable
    | DropTable
    | ReplaceTable
    | AttachPartition
    | DetachPartition
    | RenameColumn
    | AddColumn
    | DropColumn
    | AlterColumnType
    | AlterColumnDefault
    | AlterColumnNullability
    | AlterColumnIdentity
    | CreateOwnedSequence
    | AlterSequenceType
    | ReplaceGeneratedColumn
    | RetypeUnderGenerated
    | DropView
    | CreateView
    | DropPolicy
    | CreatePolicy
    | AddPrimaryKey
    | DropPrimaryKey
    | AddUnique
    | AddForeignKey
    | AddCheck
    | AddExclusion
    | ValidateConstraint
    | DropConstraint
    | CreateIndex
    | BuildPartitionedIndex
    | DropIndex
    | RenameIndex
    | RenameConstraint
    | ReplaceIndex
    | RebuildInvalidIndex
    | SetTableOption
    | SetComment
    | ResumeBackfill
    | RetypeExpand
    | RetypeBackfill
    | RetypeSwap
    | RetypeAbandon
    | KindChange
)

KIND_NAMES: dict[type, str] = {
    CreateExtension: "create_extension",
    CreateSchema: "create_schema",
    CreateEnum: "create_enum",
    AddEnumValue: "add_enum_value",
    DropEnum: "drop_enum",
    RenameTable: "rename_table",
    CreateTable: "create_table",
    DropTable: "drop_table",
    ReplaceTable: "replace_table",
    AttachPartition: "attach_partition",
    DetachPartition: "detach_partition",
    RenameColumn: "rename_column",
    AddColumn: "add_column",
    DropColumn: "drop_column",
    AlterColumnType: "alter_column_type",
    AlterColumnDefault: "alter_column_default",
    AlterColumnNullability: "alter_column_nullability",
    AlterColumnIdentity: "alter_column_identity",
    CreateOwnedSequence: "create_owned_sequence",
    AlterSequenceType: "alter_sequence_type",
    ReplaceGeneratedColumn: "replace_generated_column",
    RetypeUnderGenerated: "retype_under_generated",
    DropView: "drop_view",
    CreateView: "create_view",
    DropPolicy: "drop_policy",
    CreatePolicy: "create_policy",
    AddPrimaryKey: "add_primary_key",
    DropPrimaryKey: "drop_primary_key",
    AddUnique: "add_unique",
    AddForeignKey: "add_foreign_key",
    AddCheck: "add_check",
    AddExclusion: "add_exclusion",
    ValidateConstraint: "validate_constraint",
    DropConstraint: "drop_constraint",
    CreateIndex: "create_index",
    BuildPartitionedIndex: "create_index",
    DropIndex: "drop_index",
    RenameIndex: "rename_index",
    RenameConstraint: "rename_constraint",
    ReplaceIndex: "replace_index",
    RebuildInvalidIndex: "rebuild_invalid_index",
    SetTableOption: "set_table_option",
    SetComment: "set_comment",
    ResumeBackfill: "resume_backfill",
    RetypeExpand: "retype_online_expand",
    RetypeBackfill: "retype_online_backfill",
    RetypeSwap: "retype_online_swap",
    RetypeAbandon: "retype_online_abandon",
}


def kind_of(change: Change) -> str:
    if isinstance(change, KindChange):
        return change.kind_name
    return KIND_NAMES[type(change)]


def object_of(change: Change) -> str:
    """The `schema.table[.name]` a change is about, as shown in plans."""
    match change:
        case KindChange():
            return change.subject
        case CreateExtension(name=name) | CreateSchema(name=name):
            return name
        case CreateEnum(name=name) | AddEnumValue(name=name) | DropEnum(name=name):
            return str(name)
        case RenameTable(new=new):
            return str(new)
        case DropView(view=view) | CreateView(view=view):
            return str(view.name)
        case DropPolicy(table=table, policy=policy) | CreatePolicy(table=table, policy=policy):
            return f"{table}.{policy.name}"
        case CreateTable(table=table) | ReplaceTable(table=table):
            return str(table.name)
        case (
            DropTable(table=table)
            | RetypeUnderGenerated(table=table)
            | AttachPartition(table=table)
            | DetachPartition(table=table)
        ):
            return str(table)
        case (
            RenameColumn(table=table, new=name)
            | RenameIndex(table=table, new=name)
            | RenameConstraint(table=table, new=name)
        ):
            return f"{table}.{name}"
        case (
            AddColumn(table=table, column=column)
            | ReplaceGeneratedColumn(table=table, column=column)
        ):
            return f"{table}.{column.name}"
        case (
            DropColumn(table=table, column=name)
            | AlterColumnType(table=table, column=name)
            | AlterColumnDefault(table=table, column=name)
            | AlterColumnNullability(table=table, column=name)
            | AlterColumnIdentity(table=table, column=name)
            | CreateOwnedSequence(table=table, column=name)
            | AlterSequenceType(table=table, column=name)
        ):
            return f"{table}.{name}"
        case (
            AddPrimaryKey(table=table, key=key)
            | DropPrimaryKey(table=table, key=key)
            | AddForeignKey(table=table, key=key)
        ):
            return f"{table}.{key.name}"
        case (
            AddUnique(table=table, constraint=constraint) | AddCheck(table=table, check=constraint)
        ):
            return f"{table}.{constraint.name}"
        case AddExclusion(table=table, exclusion=exclusion):
            return f"{table}.{exclusion.name}"
        case ValidateConstraint(table=table, name=name) | DropConstraint(table=table, name=name):
            return f"{table}.{name}"
        case (
            CreateIndex(table=table, index=index)
            | BuildPartitionedIndex(table=table, index=index)
            | DropIndex(table=table, index=index)
            | RebuildInvalidIndex(table=table, index=index)
            | ReplaceIndex(table=table, new=index)
        ):
            return f"{table}.{index.name}"
        case SetTableOption(table=table, option=option):
            return f"{table}.{option}"
        case ResumeBackfill(job=job):
            return job.label
        case RetypeBackfill(table=table) if len(change.parts) > 1:
            return f"{table}.({change.column})"
        case RetypeBackfill(table=table):
            return f"{table}.{change.column}"
        case (
            RetypeExpand(table=table, column=name)
            | RetypeSwap(table=table, column=name)
            | RetypeAbandon(table=table, column=name)
        ):
            return f"{table}.{name}"
        case SetComment(target="table", table=table):
            return str(table)
        case SetComment(table=table, name=name):
            return f"{table}.{name}"
    raise TypeError(change)


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
