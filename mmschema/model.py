"""The model shared by both sides of the diff: the Catalog, names, and what a table change
reads around it (types, views and policies it may have to make again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mmschema.kinds.base import KindObject, Unmanaged

if TYPE_CHECKING:
    from mmschema.kinds.tables.model import ForeignKey, Table


@dataclass(frozen=True, order=True)
class QualifiedName:
    """A schema-qualified relation name, exact (case-sensitive) as in the catalog."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class UserType:
    """An enum, domain or composite type of the target that declared columns may use
    (not managed)."""

    name: QualifiedName
    kind: str  # "enum" | "domain" | "composite"
    labels: tuple[str, ...] = ()
    base_type: str | None = None
    not_null: bool = False
    default: str | None = None
    checks: tuple[str, ...] = ()  # pg_get_constraintdef() of each CHECK
    attributes: tuple[str, ...] = ()  # a composite's "name type", in order
    in_use: bool = False  # a column, routine, type, default... depends on it


@dataclass(frozen=True)
class View:
    """A view that reads managed tables (not managed itself): dropped and created again,
    exactly as it was, around a change its definition would otherwise block."""

    name: QualifiedName
    definition: str  # pg_get_viewdef(), names qualified
    level: int  # 1: reads a managed table; n: reads a view of level n - 1
    reads: frozenset[tuple[QualifiedName, str]]  # (relation, column) it reads
    rebuildable: bool = True  # a plain view, no triggers or rules of its own
    options: tuple[str, ...] = ()  # reloptions, e.g. "security_barrier=true"
    comment: str | None = None
    owner: str = ""
    grants: tuple[tuple[str, str], ...] = ()  # (quoted grantee or PUBLIC, privilege)
    materialized: bool = False
    indexes: tuple[str, ...] = ()  # a materialized view's, as pg_get_indexdef prints them
    populated: bool = True  # a materialized view's data: made again WITH DATA or not


@dataclass(frozen=True)
class Policy:
    """A row level security policy (not managed): made again, as it was, around a change
    of a column it reads."""

    name: str
    permissive: bool
    command: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    roles: tuple[str, ...]  # quoted role names, or PUBLIC
    using: str | None
    check: str | None
    reads: frozenset[str] = frozenset()  # the table's columns it reads


@dataclass(frozen=True)
class ColumnTrigger:
    """A trigger that reads columns of its table (UPDATE OF, WHEN), managed or not: made
    again, as it was, around a type change of one of them."""

    name: str
    definition: str  # pg_get_triggerdef(), names qualified
    enabled: str = "O"  # pg_trigger.tgenabled: O (default), D, R (replica), A (always)
    comment: str | None = None
    reads: frozenset[str] = frozenset()  # the table's columns it reads


@dataclass(frozen=True)
class ColumnReader:
    """A rule on a table, or a routine with a BEGIN ATOMIC body, that reads columns of
    managed tables (managed or not): PostgreSQL refuses a type change of such a column
    while it exists, so it is dropped and made again, as it was, around that change."""

    kind: str  # "rule" | "function" | "procedure"
    name: QualifiedName  # a routine's; a rule's schema and own name
    table: QualifiedName | None  # a rule's table
    arguments: str  # a routine's identity arguments, pg_get_function_identity_arguments()
    definition: str  # pg_get_ruledef() / pg_get_functiondef(), names qualified
    comment: str | None = None
    owner: str = ""  # a routine's
    grants: tuple[tuple[str, str], ...] | None = None  # a routine's own list; None: default
    blocked: bool = False  # something depends on the routine: it cannot be dropped alone
    reads: frozenset[tuple[QualifiedName, str]] = frozenset()  # (table, column)

    @property
    def label(self) -> str:
        if self.table is not None:
            return f"{self.table}.{self.name.name}"
        return f"{self.name}({self.arguments})"


@dataclass(frozen=True)
class Catalog:
    tables: dict[QualifiedName, Table] = field(default_factory=dict)
    extensions: frozenset[str] = frozenset()
    schemas: frozenset[str] = frozenset()
    types: tuple[UserType, ...] = ()
    # Foreign keys of tables outside the file that reference a managed table.
    inbound_foreign_keys: tuple[tuple[QualifiedName, ForeignKey], ...] = ()
    server_version: int = 0  # server_version_num of the server that printed it
    views: tuple[View, ...] = ()  # views reading managed tables, shallowest first
    # Rules and BEGIN ATOMIC routines reading their columns (read with `dependents`).
    column_readers: tuple[ColumnReader, ...] = ()
    objects: tuple[KindObject, ...] = ()  # of the kinds in mmschema/kinds the file names
    unmanaged: tuple[Unmanaged, ...] = ()  # objects of those kinds on managed tables, undeclared
    # Whether the tables' `dependents` and `policies` were read: a plan reads them only
    # when a change needs them (introspect.with_dependents).
    dependents_known: bool = field(default=False, compare=False)
