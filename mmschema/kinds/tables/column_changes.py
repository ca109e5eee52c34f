"""The changes of a table's columns, each a frozen dataclass with its plan phase."""

from __future__ import annotations

from dataclasses import dataclass

from mmschema.backfill import BackfillJob
from mmschema.kinds.base import Phase
from mmschema.kinds.tables.changes import TableChange
from mmschema.kinds.tables.model import (
    Column,
    ForeignKey,
    UniqueConstraint,
)
from mmschema.model import ColumnReader, ColumnTrigger, Policy, QualifiedName, View


@dataclass(frozen=True)
class RenameColumn(TableChange):
    table: QualifiedName
    old: str
    new: str
    phase = Phase.RENAME_COLUMNS
    kind_label = "rename_column"
    about = ("table", "new")


@dataclass(frozen=True)
class AddColumn(TableChange):
    table: QualifiedName
    column: Column
    backfill: str | None = None
    backfill_where: str | None = None
    # Every existing row gets a computed value (a STORED generated column, a serial, a
    # volatile default): the table is rewritten.
    rewrites: bool = False
    domain_reason: str | None = None  # why its domain type makes it rewrite, if it does
    phase = Phase.ADD_COLUMNS
    kind_label = "add_column"
    about = ("table", "column.name")


@dataclass(frozen=True)
class DropColumn(TableChange):
    table: QualifiedName
    column: str
    cascade: tuple[str, ...] = ()  # what depends on it and goes too (DROP ... CASCADE)
    phase = Phase.DROP_COLUMNS
    kind_label = "drop_column"
    about = ("table", "column")


@dataclass(frozen=True)
class AlterColumnType(TableChange):
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
    kind_label = "alter_column_type"
    about = ("table", "column")


@dataclass(frozen=True)
class AlterColumnDefault(TableChange):
    table: QualifiedName
    column: str
    old: str | None
    new: str | None
    # The sequence the old default used and the column owns (a serial's): dropped with it.
    drop_sequence: str | None = None
    phase = Phase.ALTER_COLUMNS
    kind_label = "alter_column_default"
    about = ("table", "column")


@dataclass(frozen=True)
class CreateOwnedSequence(TableChange):
    """The sequence a serial column's default needs, when an existing column becomes serial."""

    table: QualifiedName
    column: str
    sequence: str  # as nextval() names it, e.g. public.t_id_seq
    type: str
    phase = Phase.ALTER_COLUMNS
    kind_label = "create_owned_sequence"
    about = ("table", "column")


@dataclass(frozen=True)
class AlterSequenceType(TableChange):
    """A serial column's sequence made as wide as its new type (serial to bigserial): an
    `integer` sequence would still run out at 2^31 under a bigint column."""

    table: QualifiedName
    column: str
    sequence: str  # as nextval() names it
    type: str
    phase = Phase.ALTER_COLUMNS
    kind_label = "alter_sequence_type"
    about = ("table", "column")


@dataclass(frozen=True)
class AlterColumnNullability(TableChange):
    table: QualifiedName
    column: str
    nullable: bool
    online: bool = True  # SET NOT NULL through a validated CHECK (existing tables)
    phase = Phase.ALTER_COLUMNS
    kind_label = "alter_column_nullability"
    about = ("table", "column")


@dataclass(frozen=True)
class AlterColumnIdentity(TableChange):
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
    kind_label = "alter_column_identity"
    about = ("table", "column")


@dataclass(frozen=True)
class ReplaceGeneratedColumn(TableChange):
    """A generation expression changed: the column is dropped and added again."""

    table: QualifiedName
    column: Column
    phase = Phase.ALTER_COLUMNS
    kind_label = "replace_generated_column"
    about = ("table", "column.name")


@dataclass(frozen=True)
class RetypeUnderGenerated(TableChange):
    """Type changes of columns that stored generated columns read: in one transaction,
    the generated columns are dropped, the types changed, and the columns added again."""

    table: QualifiedName
    generated: tuple[Column, ...]
    retypes: tuple[AlterColumnType, ...]
    phase = Phase.ALTER_COLUMNS
    kind_label = "retype_under_generated"


@dataclass(frozen=True)
class ResumeBackfill(TableChange):
    """A backfill an interrupted apply left unfinished (the history's statements it takes over)."""

    job: BackfillJob
    statement_ids: tuple[int, ...]
    progress: str
    phase = Phase.EXTENSIONS  # before anything else, as the apply that started it would

    @property
    def table(self) -> QualifiedName:
        return self.job.table

    kind_label = "resume_backfill"

    @property
    def subject(self) -> str:
        return self.job.label


@dataclass(frozen=True)
class RetypeExpand(TableChange):
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
    copy_refused: str | None = None  # why the table is not copied into a new one instead
    phase = Phase.ALTER_COLUMNS
    kind_label = "retype_online_expand"
    about = ("table", "column")


@dataclass(frozen=True)
class RetypeBackfill(TableChange):
    """The shadow columns of a table's online type changes filled, in one pass, for the
    rows there were when the triggers went in."""

    table: QualifiedName
    parts: tuple[tuple[str, str, str], ...]  # (column, its shadow, the shadow's value)
    progress: str | None = None  # what an earlier apply left (work in flight)
    phase = Phase.ALTER_COLUMNS

    @property
    def column(self) -> str:
        return ", ".join(column for column, _, _ in self.parts)

    kind_label = "retype_online_backfill"

    @property
    def subject(self) -> str:
        if len(self.parts) > 1:
            return f"{self.table}.({self.column})"
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class RetypeSwap(TableChange):
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
    kind_label = "retype_online_swap"
    about = ("table", "column")


@dataclass(frozen=True)
class RetypeAbandon(TableChange):
    """An online type change the file no longer wants, before its swap: trigger, function
    and shadow column (with its indexes and check) dropped."""

    table: QualifiedName
    column: str
    shadow: str
    trigger: str | None
    progress: str | None = None
    phase = Phase.ALTER_COLUMNS
    kind_label = "retype_online_abandon"
    about = ("table", "column")


@dataclass(frozen=True)
class DropView(TableChange):
    """A view or materialized view that blocks a change of `table` (a type change of a
    column it reads)."""

    table: QualifiedName
    view: View
    phase = Phase.ALTER_COLUMNS
    kind_label = "drop_view"
    about = ("view.name",)

    @property
    def kind_name(self) -> str:
        return "drop_materialized_view" if self.view.materialized else self.kind_label


@dataclass(frozen=True)
class CreateView(TableChange):
    """The view again, as it was (or as the file declares it, when that changes), once
    `table` changed (same transaction when it can be); a materialized one with its indexes."""

    table: QualifiedName
    view: View
    phase = Phase.ALTER_COLUMNS
    kind_label = "create_view"
    about = ("view.name",)

    @property
    def kind_name(self) -> str:
        return "create_materialized_view" if self.view.materialized else self.kind_label


@dataclass(frozen=True)
class DropPolicy(TableChange):
    """A policy that blocks a type change of a column it reads."""

    table: QualifiedName
    policy: Policy
    phase = Phase.ALTER_COLUMNS
    kind_label = "drop_policy"
    about = ("table", "policy.name")


@dataclass(frozen=True)
class CreatePolicy(TableChange):
    """The policy again, as it was, in the transaction of the change it blocked."""

    table: QualifiedName
    policy: Policy
    phase = Phase.ALTER_COLUMNS
    kind_label = "create_policy"
    about = ("table", "policy.name")


@dataclass(frozen=True)
class DropTrigger(TableChange):
    """A trigger that blocks a type change of a column it reads (UPDATE OF, WHEN)."""

    table: QualifiedName
    trigger: ColumnTrigger
    phase = Phase.ALTER_COLUMNS
    kind_label = "drop_trigger"
    about = ("table", "trigger.name")


@dataclass(frozen=True)
class CreateTrigger(TableChange):
    """The trigger again, as it was, in the transaction of the change it blocked."""

    table: QualifiedName
    trigger: ColumnTrigger
    phase = Phase.ALTER_COLUMNS
    kind_label = "create_trigger"
    about = ("table", "trigger.name")


@dataclass(frozen=True)
class DropColumnReader(TableChange):
    """A rule or BEGIN ATOMIC routine that blocks a type change of a column it reads."""

    table: QualifiedName
    reader: ColumnReader
    phase = Phase.ALTER_COLUMNS
    kind_label = "drop_rule"
    about = ("reader.label",)

    @property
    def kind_name(self) -> str:
        return f"drop_{self.reader.kind}"


@dataclass(frozen=True)
class CreateColumnReader(TableChange):
    """The rule or routine again, as it was, in the transaction of the change it blocked."""

    table: QualifiedName
    reader: ColumnReader
    phase = Phase.ALTER_COLUMNS
    kind_label = "create_rule"
    about = ("reader.label",)

    @property
    def kind_name(self) -> str:
        return f"create_{self.reader.kind}"
