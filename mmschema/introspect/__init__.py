"""Reads the target's catalog in one snapshot: the table family's read (its kind's hook) and
what the tables' changes need around them (types, views, policies, dependents)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, LiteralString, Protocol, TypeVar

import psycopg

from mmschema.catalogsql import fetch_rows, packaged_sql
from mmschema.collector import paused
from mmschema.kinds.routine_text import identity_of, routine_key
from mmschema.kinds.tables.kind import TABLES
from mmschema.model import (
    Catalog,
    ColumnReader,
    ColumnTrigger,
    Policy,
    QualifiedName,
    UserType,
    View,
)
from mmschema.snapshot_helper import SnapshotHelper, SnapshotRefused, export_snapshot

# A read of this many tables or more runs its indexes statement on a second connection.
TWO_CONNECTIONS_FROM = 200


@cache
def catalog_sql(name: str) -> LiteralString:
    """The text of introspect/sql/<name>.sql (shipped with the package, never user input)."""
    return packaged_sql("mmschema.introspect", name)


@dataclass
class TypeRow:
    schema: str
    name: str
    kind: str
    labels: list[str]
    base_type: str | None
    not_null: bool
    default: str | None
    checks: list[str]
    attributes: list[str]
    in_use: bool


@dataclass
class ViewRow:
    schema: str
    name: str
    kind: str
    level: int
    definition: str
    options: list[str]
    comment: str | None
    owner: str
    grants: list[list[str]]
    reads: list[list[str]]
    indexes: list[str]
    populated: bool
    rebuildable: bool


def _view(row: ViewRow) -> View:
    return View(
        name=QualifiedName(row.schema, row.name),
        definition=row.definition,
        level=row.level,
        reads=frozenset((QualifiedName(s, t), c) for s, t, c in row.reads),
        rebuildable=row.rebuildable,
        options=tuple(row.options),
        comment=row.comment,
        owner=row.owner,
        grants=tuple((grantee, privilege) for grantee, privilege in row.grants),
        materialized=row.kind == "m",
        indexes=tuple(row.indexes),
        populated=row.populated,
    )


@dataclass
class PolicyRow:
    schema: str
    table_name: str
    name: str
    permissive: bool
    command: str
    roles: list[str]
    using_expr: str | None
    check_expr: str | None
    reads: list[str]


@dataclass
class TriggerRow:
    schema: str
    table_name: str
    name: str
    definition: str
    enabled: str
    comment: str | None
    reads: list[str]


@dataclass
class ReaderRow:
    kind: str
    schema: str
    table_name: str
    name: str
    arguments: str
    definition: str
    comment: str | None
    owner: str
    grants: list[list[str]] | None
    blocked: bool
    reads: list[list[str]]


@dataclass
class DependentRow:
    schema: str
    table_name: str
    column_name: str | None
    dependent: str


@dataclass
class ExtensionRow:
    name: str


@dataclass
class SchemaRow:
    name: str


def read_catalog(
    conn: psycopg.Connection[Any], names: list[QualifiedName], dependents: bool = False
) -> Catalog:
    """The managed tables named (those that exist), read in one consistent snapshot, with
    the views that read them; dependents=True adds what with_dependents adds."""
    if len(names) >= TWO_CONNECTIONS_FROM:
        try:
            return _read_catalog(conn, names, dependents, two_connections=True)
        except SnapshotRefused:
            pass  # that transaction is gone: read again on this connection alone
    return _read_catalog(conn, names, dependents, two_connections=False)


def _read_catalog(
    conn: psycopg.Connection[Any],
    names: list[QualifiedName],
    dependents: bool,
    two_connections: bool,
) -> Catalog:
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        helper = None
        if two_connections:
            helper = SnapshotHelper(conn, _settle)
            helper.start(export_snapshot(conn))
        catalog = read_catalog_in_transaction(conn, names, helper=helper)
        return _with_dependents(conn, catalog, names) if dependents else catalog


def with_dependents(
    conn: psycopg.Connection[Any], catalog: Catalog, names: list[QualifiedName]
) -> Catalog:
    """The catalog with its tables' policies and what depends on them and their columns
    (what DROP TABLE / DROP COLUMN would take along, what a column type change must drop
    and make again), read in a snapshot of their own: a plan reads them only when a change
    of its needs them."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        _settle(conn)
        return _with_dependents(conn, catalog, names)


def _with_dependents(
    conn: psycopg.Connection[Any], catalog: Catalog, names: list[QualifiedName]
) -> Catalog:
    params = _name_params(names)
    dependents = fetch_rows(conn, catalog_sql("column_dependents"), DependentRow, params)
    policies = fetch_rows(conn, catalog_sql("policies"), PolicyRow, params)
    triggers = fetch_rows(conn, catalog_sql("column_triggers"), TriggerRow, params)
    catalog = with_per_table(catalog, "dependents", dependents, _dependent)
    catalog = with_per_table(catalog, "policies", policies, _policy)
    catalog = with_per_table(catalog, "column_triggers", triggers, _trigger)
    readers = fetch_rows(conn, catalog_sql("column_readers"), ReaderRow, params)
    readers_read = tuple(map(_reader, readers))
    return replace(catalog, dependents_known=True, column_readers=readers_read)


def _reader(row: ReaderRow) -> ColumnReader:
    return ColumnReader(
        row.kind,
        QualifiedName(row.schema, row.name),
        QualifiedName(row.schema, row.table_name) if row.table_name else None,
        row.arguments,
        row.definition,
        row.comment,
        row.owner,
        None if row.grants is None else tuple((g, p) for g, p in row.grants),
        row.blocked,
        frozenset((QualifiedName(s, t), c) for s, t, c in row.reads),
    )


def _settle(conn: psycopg.Connection[Any]) -> None:
    """One statement for the transaction's settings: search_path pinned to pg_catalog so
    that pg_get_expr and pg_get_indexdef qualify every user name the same way on every
    server we read; TimeZone and DateStyle so that they print timestamp constants (in
    defaults, partition bounds) the same way; no parallel workers (they cost more than
    they save on catalog statements) and room to sort a big read in memory."""
    conn.execute(
        "SELECT set_config('search_path', 'pg_catalog', true),"
        " set_config('TimeZone', 'UTC', true),"
        " set_config('DateStyle', 'ISO, MDY', true),"
        " set_config('max_parallel_workers_per_gather', '0', true),"
        " set_config('work_mem', '64MB', true)"
    )


def _name_params(names: list[QualifiedName]) -> dict[str, Any]:
    return {"schemas": [n.schema for n in names], "names": [n.name for n in names]}


def read_catalog_in_transaction(
    conn: psycopg.Connection[Any],
    names: list[QualifiedName],
    what_reads: bool = True,
    helper: SnapshotHelper | None = None,
) -> Catalog:
    """The same read inside a transaction the caller owns (the scratch server's), without
    policies and dependents (with_dependents).

    what_reads=False leaves out the views that read the tables too: the scratch server
    creates none, so its read-backs skip that statement. A `helper` (a second connection
    in the same snapshot) reads the indexes while this one reads the columns.
    """
    with paused():  # the rows and tables of a big read are hundreds of thousands of objects
        return _read_in_transaction(conn, names, what_reads, helper)


def _read_in_transaction(
    conn: psycopg.Connection[Any],
    names: list[QualifiedName],
    what_reads: bool,
    helper: SnapshotHelper | None,
) -> Catalog:
    _settle(conn)
    around = _AroundTables(what_reads)
    read = TABLES.read(conn, names, helper, meanwhile=around.read)
    return Catalog(
        tables=read.tables,
        extensions=frozenset(e.name for e in around.extensions),
        schemas=frozenset(s.name for s in around.schemas),
        types=tuple(map(_user_type, around.types)),
        views=tuple(map(_view, around.views)),
        inbound_foreign_keys=read.inbound_foreign_keys,
        server_version=conn.info.server_version,
    )


@dataclass
class _AroundTables:
    """What the read takes besides the tables, read on the first connection while the
    second one may still be reading the tables' indexes."""

    what_reads: bool  # the views that read the tables too
    extensions: list[ExtensionRow] = field(default_factory=list)
    schemas: list[SchemaRow] = field(default_factory=list)
    types: list[TypeRow] = field(default_factory=list)
    views: list[ViewRow] = field(default_factory=list)

    def read(self, conn: psycopg.Connection[Any], oids: dict[str, str]) -> None:
        self.extensions = fetch_rows(conn, catalog_sql("extensions"), ExtensionRow, {})
        self.schemas = fetch_rows(conn, catalog_sql("schemas"), SchemaRow, {})
        self.types = fetch_rows(conn, catalog_sql("types"), TypeRow, {})
        if self.what_reads:
            self.views = fetch_rows(conn, catalog_sql("views"), ViewRow, oids)


class _TableRow(Protocol):
    """A catalog row about something of one managed table."""

    @property
    def schema(self) -> str: ...

    @property
    def table_name(self) -> str: ...


Row = TypeVar("Row", bound=_TableRow)


def with_per_table(
    catalog: Catalog, field: str, rows: list[Row], make: Callable[[Row], object]
) -> Catalog:
    """The catalog with each managed table's `field` set to what `make` builds of its rows."""
    grouped: dict[QualifiedName, list[object]] = defaultdict(list)
    for row in rows:
        grouped[QualifiedName(row.schema, row.table_name)].append(make(row))
    tables = dict(catalog.tables)
    for name, items in grouped.items():
        if name in tables:
            value: dict[str, Any] = {field: tuple(items)}
            tables[name] = replace(tables[name], **value)
    return replace(catalog, tables=tables)


def _dependent(row: DependentRow) -> tuple[str | None, str]:
    return row.column_name, row.dependent


def _trigger(row: TriggerRow) -> ColumnTrigger:
    return ColumnTrigger(
        row.name, row.definition, row.enabled, row.comment, frozenset(row.reads)
    )


def _policy(row: PolicyRow) -> Policy:
    return Policy(
        row.name,
        row.permissive,
        row.command,
        tuple(row.roles),
        row.using_expr,
        row.check_expr,
        frozenset(row.reads),
    )


def _user_type(row: TypeRow) -> UserType:
    return UserType(
        name=QualifiedName(row.schema, row.name),
        kind={"e": "enum", "d": "domain"}.get(row.kind, "composite"),
        labels=tuple(row.labels),
        base_type=row.base_type,
        not_null=row.not_null,
        default=row.default,
        checks=tuple(row.checks),
        attributes=tuple(row.attributes),
        in_use=row.in_use,
    )


def read_function_definitions(
    conn: psycopg.Connection[Any], leaving_out: Collection[str] = ()
) -> list[str]:
    """CREATE OR REPLACE FUNCTION text of the target's own functions (read only), but for
    those whose key is in `leaving_out` (the file declares them, present or absent)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SET LOCAL search_path = pg_catalog")
        rows = conn.execute(catalog_sql("functions")).fetchall()
    return [
        str(definition)
        for schema, name, identity, definition in rows
        if not leaving_out
        or routine_key(QualifiedName(schema, name), identity_of(identity, False)) not in leaving_out
    ]
