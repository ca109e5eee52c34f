"""What a schema.yaml declares, as written, before the server normalizes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from mmschema.kinds.base import KindObject
from mmschema.model import QualifiedName


@dataclass(frozen=True)
class Source:
    """Where something was declared: file, 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class DeclaredColumn:
    name: str
    type: str
    source: Source
    nullable: bool = True
    default: str | None = None  # SQL expression text; YAML scalars already turned into literals
    identity: str | None = None  # "always" | "by_default"
    identity_options: tuple[tuple[str, str], ...] = ()  # as written: start, increment, ...
    generated: str | None = None
    collation: str | None = None
    comment: str | None = None
    using: str | None = None
    backfill: str | None = None
    backfill_where: str | None = None
    renamed_from: str | None = None
    state: str = "present"


@dataclass(frozen=True)
class DeclaredPartitionColumn:
    """A partition's own options on one of its parent's columns; None: as the parent's."""

    name: str
    source: Source
    nullable: bool | None = None
    default: str | None = None
    default_given: bool = False  # `default:` is written (null too: no default)


@dataclass(frozen=True)
class DeclaredIndexKey:
    column: str | None = None  # exactly one of column / expr
    expr: str | None = None
    opclass: str | None = None
    order: str | None = None  # "asc" | "desc"
    nulls: str | None = None  # "first" | "last"
    collation: str | None = None


@dataclass(frozen=True)
class DeclaredIndex:
    name: str
    keys: tuple[DeclaredIndexKey, ...]
    source: Source
    unique: bool = False
    using: str = "btree"
    where: str | None = None
    include: tuple[str, ...] = ()
    nulls_distinct: bool = True
    with_options: tuple[tuple[str, str], ...] = ()
    comment: str | None = None
    renamed_from: str | None = None
    state: str = "present"


@dataclass(frozen=True)
class DeclaredPrimaryKey:
    columns: tuple[str, ...]
    name: str | None = None  # None: PostgreSQL's default "<table>_pkey"
    source: Source | None = None
    renamed_from: str | None = None


@dataclass(frozen=True)
class DeclaredUnique:
    name: str
    columns: tuple[str, ...]
    source: Source
    deferrable: bool = False
    initially_deferred: bool = False
    nulls_distinct: bool = True
    renamed_from: str | None = None


@dataclass(frozen=True)
class DeclaredForeignKey:
    name: str
    columns: tuple[str, ...]
    references: QualifiedName
    source: Source
    referenced_columns: tuple[str, ...] = ()  # empty: the referenced table's primary key
    on_delete: str = "no_action"  # no_action | restrict | cascade | set_null | set_default
    on_update: str = "no_action"
    deferrable: bool = False
    initially_deferred: bool = False
    valid: bool = True  # False: NOT VALID, and left so
    renamed_from: str | None = None


@dataclass(frozen=True)
class DeclaredCheck:
    name: str
    expr: str  # SQL boolean expression as written
    source: Source
    valid: bool = True  # False: NOT VALID, and left so
    no_inherit: bool = False
    renamed_from: str | None = None


@dataclass(frozen=True)
class DeclaredExclusion:
    name: str
    body: str  # what follows EXCLUDE, as written
    source: Source


@dataclass(frozen=True)
class DeclaredTable:
    name: QualifiedName
    source: Source
    columns: tuple[DeclaredColumn, ...] = ()
    primary_key: DeclaredPrimaryKey | None = None
    indexes: tuple[DeclaredIndex, ...] = ()
    comment: str | None = None
    comment_given: bool = True  # `comment:` is in the file (null too): else unmanaged
    renamed_from: QualifiedName | None = None
    state: str = "present"
    unique: tuple[DeclaredUnique, ...] = ()
    foreign_keys: tuple[DeclaredForeignKey, ...] = ()
    checks: tuple[DeclaredCheck, ...] = ()
    exclusions: tuple[DeclaredExclusion, ...] = ()
    partition_by: str | None = None  # "RANGE (created_at)": a partitioned table
    partition_of: QualifiedName | None = None  # the parent, when this is a partition
    partition_bound: str | None = None  # "FOR VALUES ...", or "DEFAULT"
    partition_columns: tuple[DeclaredPartitionColumn, ...] = ()  # a partition's own options
    # Table options; None: not declared, so not managed (changed only with --prune).
    unlogged: bool | None = None
    row_security: str | None = None  # "off" | "on" | "forced" | "force_only"
    replica_identity: str | None = None  # "default" | "full" | "nothing" | "index:<name>"
    # (constraint name, comment) of each `comment:` the file gives on a constraint (null
    # too); name None: the primary key, whatever its name.
    constraint_comments: tuple[tuple[str | None, str | None], ...] = ()

    def present_columns(self) -> tuple[DeclaredColumn, ...]:
        return tuple(c for c in self.columns if c.state == "present")

    def present_indexes(self) -> tuple[DeclaredIndex, ...]:
        return tuple(i for i in self.indexes if i.state == "present")


@dataclass(frozen=True)
class DeclaredEnum:
    name: QualifiedName
    source: Source
    labels: tuple[str, ...] = ()  # in the order the type sorts them
    state: str = "present"
    renamed_labels: tuple[tuple[str, str], ...] = ()  # (label, its earlier name)


@dataclass(frozen=True)
class Settings:
    lock_timeout_ms: int = 3000
    statement_timeout_ms: int = 30 * 60 * 1000
    retries: int = 5
    allow: frozenset[str] = frozenset()
    # A rewriting type change of a table with at least this many rows (estimated) is made
    # online, by expand/contract; smaller tables get the plain ALTER COLUMN TYPE.
    online_type_change_rows: int = 100_000
    # How: "copy" copies the rows into a new table of the new types and swaps it in where
    # the table has nothing the copy cannot carry (else, and with "shadow", shadow columns).
    online_type_change_method: str = "copy"
    # Connections a big backfill walks its key ranges with, at once (each batch as short).
    backfill_connections: int = 2

    @property
    def applied_statement_timeout_ms(self) -> int:
        """The statement_timeout apply gives every statement: 0 (no limit, as declared) or at
        least lock_timeout + 1 s, so that a lock wait always ends by lock_timeout first."""
        if self.statement_timeout_ms == 0:
            return 0
        return max(self.statement_timeout_ms, self.lock_timeout_ms + 1000)


@dataclass(frozen=True)
class DesiredState:
    tables: tuple[DeclaredTable, ...]
    settings: Settings = Settings()
    extensions: tuple[str, ...] = ()
    assertions: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the whole file(s) as read, recorded in history
    enums: tuple[DeclaredEnum, ...] = ()
    objects: tuple[KindObject, ...] = ()  # of the kinds in mmschema/kinds (views, ...)

    def present_enums(self) -> tuple[DeclaredEnum, ...]:
        return tuple(e for e in self.enums if e.state == "present")

    def present_tables(self) -> tuple[DeclaredTable, ...]:
        return tuple(t for t in self.tables if t.state == "present")


class InvalidFile(Exception):
    """The desired-state file is rejected; errors are 'path:line:column: message' lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
