"""The table family's model, both sides of the diff: Table, Column, Index, constraints."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, TypeVar

from mmschema.model import ColumnTrigger, Policy, QualifiedName

# The serial pseudo-types and the integer type each one stands for.
SERIAL_TYPES = {
    "smallserial": "smallint",
    "serial2": "smallint",
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type() output, e.g. "character varying(32)"
    nullable: bool = True
    default: str | None = None  # pg_get_expr() output; None for identity/generated columns
    identity: str | None = None  # "always" | "by_default"
    generated: str | None = None  # expression of GENERATED ALWAYS AS (...) STORED
    collation: str | None = None  # only when it differs from the type's default
    comment: str | None = None
    # An identity's sequence options that differ from the defaults, sorted by name:
    # cache, cycle, increment, max, min, start (values as text, cycle "true").
    identity_options: tuple[tuple[str, str], ...] = ()


def column_from(source: Any) -> Column:
    """A Column from anything with its attribute names (a catalog row, a declared column)."""
    return Column(**{f.name: getattr(source, f.name) for f in fields(Column)})


@dataclass(frozen=True)
class IndexKey:
    """One key of an index: a column name or an expression, as PostgreSQL prints it."""

    expr: str  # column name (unquoted) when is_column, else the printed expression
    is_column: bool = True
    opclass: str | None = None  # only when not the default for the type
    descending: bool = False
    nulls_first: bool = False  # PostgreSQL's default: NULLS FIRST only for DESC
    collation: str | None = None  # only when not the column's own


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[IndexKey, ...]
    unique: bool = False
    method: str = "btree"
    where: str | None = None
    include: tuple[str, ...] = ()
    nulls_distinct: bool = True
    with_options: tuple[tuple[str, str], ...] = ()  # sorted storage parameters
    comment: str | None = None
    valid: bool = True  # indisvalid
    constraint: str | None = None  # "p" / "u" / "x" when the index backs a constraint
    attached: bool = False  # a partition's part of its parent's index (made and dropped with it)
    # On a partitioned table: the parts attached so far, as (partition, index name, valid).
    parts: tuple[tuple[QualifiedName, str, bool], ...] = field(default=(), compare=False)

    def same_definition(self, other: Index) -> bool:
        """Whether both build the same index (name, validity and comment aside)."""
        return (
            self.keys == other.keys
            and self.unique == other.unique
            and self.method == other.method
            and self.where == other.where
            and self.include == other.include
            and self.nulls_distinct == other.nulls_distinct
            and self.with_options == other.with_options
        )


@dataclass(frozen=True)
class PrimaryKey:
    name: str
    columns: tuple[str, ...]
    attached: bool = field(default=False, compare=False)  # a partition's part of its parent's
    # A partition's own key whose index is a part of its parent's unique index: PostgreSQL
    # refuses to drop it while that index is there.
    under_parent_index: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class UniqueConstraint:
    name: str
    columns: tuple[str, ...]
    deferrable: bool = False
    initially_deferred: bool = False
    nulls_distinct: bool = True


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    references: QualifiedName
    referenced_columns: tuple[str, ...]
    on_delete: str = "no_action"  # no_action | restrict | cascade | set_null | set_default
    on_update: str = "no_action"
    deferrable: bool = False
    initially_deferred: bool = False
    valid: bool = True  # convalidated

    def same_definition(self, other: ForeignKey) -> bool:
        return (
            self.columns,
            self.references,
            self.referenced_columns,
            self.on_delete,
            self.on_update,
            self.deferrable,
            self.initially_deferred,
        ) == (
            other.columns,
            other.references,
            other.referenced_columns,
            other.on_delete,
            other.on_update,
            other.deferrable,
            other.initially_deferred,
        )


@dataclass(frozen=True)
class Check:
    name: str
    expression: str  # pg_get_expr(conbin) output
    valid: bool = True
    no_inherit: bool = False

    def same_definition(self, other: Check) -> bool:
        """Whether both check the same (validity aside)."""
        return (self.expression, self.no_inherit) == (other.expression, other.no_inherit)


@dataclass(frozen=True)
class Partition:
    """A partition somewhere below a partitioned table, managed by the file or not."""

    name: QualifiedName
    parent: QualifiedName
    partitioned: bool = False


@dataclass(frozen=True)
class Exclusion:
    name: str
    definition: str  # pg_get_constraintdef(): "EXCLUDE USING gist (...) WHERE (...)"


@dataclass(frozen=True)
class Table:
    name: QualifiedName
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    indexes: tuple[Index, ...] = ()  # standalone indexes only; constraint indexes excluded
    comment: str | None = None
    unique: tuple[UniqueConstraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    partition_by: str | None = None  # pg_get_partkeydef(), e.g. "RANGE (created_at)"
    partition_of: QualifiedName | None = None  # the parent, when this table is a partition
    partition_bound: str | None = None  # e.g. "FOR VALUES IN ('a')" or "DEFAULT"
    partitions: tuple[Partition, ...] = ()  # all below a partitioned table, parents first
    unlogged: bool = False
    # "off" | "on" | "forced" | "force_only" (ENABLE / FORCE ROW LEVEL SECURITY)
    row_security: str = "off"
    replica_identity: str = "default"  # "default" | "full" | "nothing" | "index:<name>"
    # What depends on it or a column (column None: the table) that a DROP would refuse to
    # drop without CASCADE: (column, pg_describe_object text), e.g. a policy or a view.
    dependents: tuple[tuple[str | None, str], ...] = ()
    policies: tuple[Policy, ...] = ()
    column_triggers: tuple[ColumnTrigger, ...] = ()  # read with `policies`
    # (constraint name, comment): live, those with one; desired, those the file gives
    # (a None comment removes one). Compared on their own (constraint_comments.py).
    constraint_comments: tuple[tuple[str, str | None], ...] = field(default=(), compare=False)

    def dependents_of(self, column: str | None = None) -> tuple[str, ...]:
        """What DROP COLUMN `column` (or, with None, DROP TABLE) would take with it."""
        found = (d for c, d in self.dependents if column is None or c == column)
        return tuple(dict.fromkeys(found))

    @property
    def partitioned(self) -> bool:
        """A partitioned table: its indexes cannot be built or dropped CONCURRENTLY."""
        return self.partition_by is not None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)


class PartitionAware(Protocol):
    """A declared or live table: its name, and its parent when it is a partition."""

    @property
    def name(self) -> QualifiedName: ...

    @property
    def partition_of(self) -> QualifiedName | None: ...


T = TypeVar("T", bound=PartitionAware)


def ancestors(table: T, by_name: Mapping[QualifiedName, T]) -> Iterator[T]:
    """The tables above a partition among `by_name`, its parent first (a cycle ends it)."""
    seen = {table.name}
    parent = table.partition_of
    while parent is not None and parent in by_name and parent not in seen:
        table = by_name[parent]
        seen.add(parent)
        yield table
        parent = table.partition_of


def parents_first(tables: Iterable[T]) -> list[T]:
    """The tables in their order, but every partition after the table it is part of."""
    listed = list(tables)
    by_name = {t.name: t for t in listed}
    return sorted(listed, key=lambda table: sum(1 for _ in ancestors(table, by_name)))
