"""Every kind's changes as one vocabulary: the Change union, what plans call each change and
what it is about; enums' and rebuilt dependents' changes (the table family's are in
mmschema/kinds/tables/, the other kinds' in their modules)."""

from __future__ import annotations

from dataclasses import dataclass

from mmschema.kinds.base import KindChange, Phase
from mmschema.kinds.tables.changes import (
    AddCheck,
    AddExclusion,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AttachPartition,
    BuildPartitionedIndex,
    CreateIndex,
    CreateTable,
    DetachPartition,
    DropConstraint,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    RebuildInvalidIndex,
    RenameConstraint,
    RenameIndex,
    RenameTable,
    ReplaceIndex,
    ReplaceTable,
    SetComment,
    SetTableOption,
    ValidateConstraint,
)
from mmschema.kinds.tables.column_changes import (
    AddColumn,
    AlterColumnDefault,
    AlterColumnIdentity,
    AlterColumnNullability,
    AlterColumnType,
    AlterSequenceType,
    CreateOwnedSequence,
    DropColumn,
    RenameColumn,
    ReplaceGeneratedColumn,
    ResumeBackfill,
    RetypeAbandon,
    RetypeBackfill,
    RetypeExpand,
    RetypeSwap,
    RetypeUnderGenerated,
)
from mmschema.model import Policy, QualifiedName, View

# With the table family's changes and the protocol's Phase: every change is `ch.X`.
__all__ = [
    "AddCheck",
    "AddColumn",
    "AddEnumValue",
    "AddExclusion",
    "AddForeignKey",
    "AddPrimaryKey",
    "AddUnique",
    "AlterColumnDefault",
    "AlterColumnIdentity",
    "AlterColumnNullability",
    "AlterColumnType",
    "AlterSequenceType",
    "AttachPartition",
    "BuildPartitionedIndex",
    "Change",
    "CreateEnum",
    "CreateExtension",
    "CreateIndex",
    "CreateOwnedSequence",
    "CreatePolicy",
    "CreateSchema",
    "CreateTable",
    "CreateView",
    "DetachPartition",
    "DropColumn",
    "DropConstraint",
    "DropEnum",
    "DropIndex",
    "DropPolicy",
    "DropPrimaryKey",
    "DropTable",
    "DropView",
    "KindChange",
    "Phase",
    "RebuildInvalidIndex",
    "RenameColumn",
    "RenameConstraint",
    "RenameIndex",
    "RenameTable",
    "ReplaceGeneratedColumn",
    "ReplaceIndex",
    "ReplaceTable",
    "ResumeBackfill",
    "RetypeAbandon",
    "RetypeBackfill",
    "RetypeExpand",
    "RetypeSwap",
    "RetypeUnderGenerated",
    "SetComment",
    "SetTableOption",
    "ValidateConstraint",
    "kind_of",
    "object_of",
    "table_after",
    "table_before",
]


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
