"""The steps of an online type change by copy and swap: a new table of the new types kept
in sync by a trigger, filled in batches, indexed, then swapped in for the old one."""

from __future__ import annotations

from dataclasses import dataclass

from mmschema.kinds.base import Phase
from mmschema.kinds.grants import Grant
from mmschema.kinds.tables.changes import TableChange
from mmschema.kinds.tables.model import ForeignKey, UniqueConstraint
from mmschema.model import ColumnTrigger, Policy, QualifiedName, View


@dataclass(frozen=True)
class CopyExpand(TableChange):
    """The copy (the table's columns, defaults, NOT NULLs and checks, the new types, its
    primary key) and the trigger mirroring every write of the table into it, at once."""

    table: QualifiedName
    copy: str
    trigger: str
    key: tuple[str, ...]  # the primary key's columns
    key_types: tuple[str, ...]  # their types (the table's, before the change)
    key_name: str  # the copy's primary key constraint, renamed in the swap
    columns: tuple[tuple[str, str], ...]  # every column, in order: (name, value from the row)
    retypes: tuple[tuple[str, str, str | None], ...]  # (column, new type, new default)
    phase = Phase.ALTER_COLUMNS
    kind_label = "retype_copy_expand"

    @property
    def subject(self) -> str:
        return f"{self.table} -> {self.copy}"


@dataclass(frozen=True)
class CopyFill(TableChange):
    """The rows there were when the trigger went in, copied in short key-ordered batches."""

    table: QualifiedName
    copy: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    progress: str | None = None  # what an earlier apply left (work in flight)
    phase = Phase.ALTER_COLUMNS
    kind_label = "retype_copy_rows"

    @property
    def subject(self) -> str:
        return f"{self.table} -> {self.copy}"


@dataclass(frozen=True)
class CopySwap(TableChange):
    """One short transaction: the trigger and the old table dropped, the copy renamed in its
    place with its keys and indexes, the table's owner, privileges, comment, row level
    security, policies and triggers, sequences owned by it, the views over it dropped and
    made again as they were, foreign keys added back NOT VALID."""

    table: QualifiedName
    copy: str
    trigger: str
    primary_key: tuple[str, str]  # (constraint, the copy's name for it)
    unique: tuple[tuple[UniqueConstraint, str], ...] = ()  # (constraint, the copy's index)
    indexes: tuple[tuple[str, str], ...] = ()  # (index name, the copy's index): renamed
    sequences: tuple[tuple[str, str | None], ...] = ()  # (sequence, column): owned, AS type
    locked: tuple[QualifiedName, ...] = ()  # other tables whose foreign keys move
    drop_foreign_keys: tuple[tuple[QualifiedName, str], ...] = ()
    add_foreign_keys: tuple[tuple[QualifiedName, ForeignKey], ...] = ()
    owner: str = ""  # the table's, given to the copy (empty: the role applying, its maker)
    revokes: tuple[Grant, ...] = ()  # the copy's default privileges the table lacks
    grants: tuple[Grant, ...] = ()  # the table's and its columns' the copy lacks
    comment: str | None = None  # the table's
    row_security: str = "off"  # the table's (Table.row_security)
    policies: tuple[Policy, ...] = ()  # the table's, made again on the copy
    triggers: tuple[ColumnTrigger, ...] = ()  # the table's own, made again on the copy
    views: tuple[View, ...] = ()  # every view over the table, shallowest first: made again
    phase = Phase.ALTER_COLUMNS
    kind_label = "retype_copy_swap"

    @property
    def subject(self) -> str:
        return str(self.table)


@dataclass(frozen=True)
class CopyAbandon(TableChange):
    """A copy the file no longer wants, before its swap: its trigger, function and table
    dropped."""

    table: QualifiedName
    copy: str
    trigger: str
    progress: str | None = None
    phase = Phase.ALTER_COLUMNS
    kind_label = "retype_copy_abandon"

    @property
    def subject(self) -> str:
        return f"{self.table} -> {self.copy}"


@dataclass(frozen=True)
class AnalyzeTable(TableChange):
    """A table swapped in: autovacuum on again, and statistics (its planner estimates start
    from nothing)."""

    table: QualifiedName
    phase = Phase.ALTER_COLUMNS
    kind_label = "analyze"

    @property
    def subject(self) -> str:
        return str(self.table)
