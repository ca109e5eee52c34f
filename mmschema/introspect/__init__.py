"""Reads the managed tables from pg_catalog in a fixed number of bulk queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, LiteralString, Protocol, TypeVar, cast

import psycopg
from psycopg.rows import class_row

from mmschema.model import (
    Catalog,
    Check,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    IndexKey,
    Partition,
    Policy,
    PrimaryKey,
    QualifiedName,
    Table,
    UniqueConstraint,
    UserType,
    View,
)

R = TypeVar("R")

INDOPTION_DESC = 1
INDOPTION_NULLS_FIRST = 2


@cache
def catalog_sql(name: str) -> LiteralString:
    """The text of introspect/sql/<name>.sql (shipped with the package, never user input)."""
    text: LiteralString = (
        resources.files("mmschema.introspect").joinpath("sql", f"{name}.sql").read_text()
    )
    return text


@dataclass
class TableRow:
    schema: str
    name: str
    comment: str | None
    partition_by: str | None
    parent_schema: str | None
    parent_name: str | None
    partition_bound: str | None
    unlogged: bool
    row_security: str
    replica_identity: str


@dataclass
class ColumnRow:
    schema: str
    table_name: str
    name: str
    type: str
    nullable: bool
    default: str | None
    identity: str | None
    generated: str | None
    collation: str | None
    comment: str | None
    identity_options: list[list[str]]


@dataclass
class IndexRow:
    schema: str
    table_name: str
    name: str
    is_unique: bool
    valid: bool
    building: bool
    method: str
    key_count: int
    predicate: str | None
    reloptions: list[str]
    constraint_type: str | None
    constraint_name: str | None
    nulls_not_distinct: bool
    comment: str | None
    attached: bool
    parts: list[list[str]]
    key_defs: list[str]
    key_columns: list[str]
    opclasses: list[str]
    key_options: list[int]
    collations: list[str]


@dataclass
class ConstraintRow:
    schema: str
    table_name: str
    name: str
    kind: str
    deferrable: bool
    initially_deferred: bool
    valid: bool
    no_inherit: bool
    columns: list[str]
    ref_schema: str | None
    ref_table: str | None
    ref_columns: list[str]
    on_delete: str
    on_update: str
    expression: str | None
    nulls_not_distinct: bool


FK_ACTIONS = {
    "a": "no_action",
    "r": "restrict",
    "c": "cascade",
    "n": "set_null",
    "d": "set_default",
}


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


@dataclass
class PartitionRow:
    schema: str
    table_name: str
    partition_schema: str
    partition_name: str
    parent_schema: str
    parent_name: str
    partitioned: bool


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


def read_catalog(conn: psycopg.Connection[Any], names: list[QualifiedName]) -> Catalog:
    """The managed tables named (those that exist), read in one consistent snapshot.

    search_path is pinned to pg_catalog so that pg_get_expr and pg_get_indexdef
    qualify every user name the same way on every server we read; TimeZone and DateStyle
    so that they print timestamp constants (in defaults, partition bounds) the same way.
    """
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return read_catalog_in_transaction(conn, names)


def read_catalog_in_transaction(
    conn: psycopg.Connection[Any], names: list[QualifiedName], what_reads: bool = True
) -> Catalog:
    """The same read inside a transaction the caller owns (the scratch server's).

    what_reads=False leaves out the views, policies and dependents that read the tables:
    the scratch server creates none, so its read-backs skip those three statements.
    """
    params = {"schemas": [n.schema for n in names], "names": [n.name for n in names]}
    conn.execute("SET LOCAL search_path = pg_catalog")
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    conn.execute("SET LOCAL DateStyle = 'ISO, MDY'")
    tables = _fetch(conn, "tables", TableRow, params)
    columns = _fetch(conn, "columns", ColumnRow, params)
    indexes = _fetch(conn, "indexes", IndexRow, params)
    constraints = _fetch(conn, "constraints", ConstraintRow, params)
    extensions = _fetch(conn, "extensions", ExtensionRow, {})
    schemas = _fetch(conn, "schemas", SchemaRow, {})
    types = _fetch(conn, "types", TypeRow, {})
    partitions = _fetch(conn, "partitions", PartitionRow, params)
    catalog = build_catalog(tables, columns, indexes, extensions, conn.info.server_version, schemas)
    catalog = with_constraints(catalog, constraints)
    catalog = with_per_table(catalog, "partitions", partitions, _partition)
    catalog = replace(catalog, types=tuple(map(_user_type, types)))
    if not what_reads:
        return catalog
    views = _fetch(conn, "views", ViewRow, params)
    dependents = _fetch(conn, "column_dependents", DependentRow, params)
    policies = _fetch(conn, "policies", PolicyRow, params)
    catalog = with_per_table(catalog, "dependents", dependents, _dependent)
    catalog = with_per_table(catalog, "policies", policies, _policy)
    return replace(catalog, views=tuple(map(_view, views)))


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


def _partition(row: PartitionRow) -> Partition:
    return Partition(
        QualifiedName(row.partition_schema, row.partition_name),
        QualifiedName(row.parent_schema, row.parent_name),
        row.partitioned,
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
    )


def read_function_definitions(conn: psycopg.Connection[Any]) -> list[str]:
    """CREATE OR REPLACE FUNCTION text of the target's own functions (read only)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SET LOCAL search_path = pg_catalog")
        return [str(row[0]) for row in conn.execute(catalog_sql("functions")).fetchall()]


def _fetch(
    conn: psycopg.Connection[Any], name: str, row: type[R], params: dict[str, Any]
) -> list[R]:
    with conn.cursor(row_factory=class_row(row)) as cur:
        cur.execute(catalog_sql(name), params)
        return cur.fetchall()


def build_catalog(
    tables: list[TableRow],
    columns: list[ColumnRow],
    indexes: list[IndexRow],
    extensions: list[ExtensionRow],
    server_version: int,
    schemas: list[SchemaRow],
) -> Catalog:
    columns_by_table: dict[QualifiedName, list[Column]] = defaultdict(list)
    for c in columns:  # built field by field: this runs once per column of the database
        column = Column(
            name=c.name,
            type=c.type,
            nullable=c.nullable,
            default=c.default,
            identity=c.identity,
            generated=c.generated,
            collation=c.collation,
            comment=c.comment,
            identity_options=tuple((k, v) for k, v in c.identity_options),
        )
        columns_by_table[QualifiedName(c.schema, c.table_name)].append(column)
    indexes_by_table: dict[QualifiedName, list[Index]] = defaultdict(list)
    keys_by_table: dict[QualifiedName, PrimaryKey] = {}
    for i in indexes:
        table = QualifiedName(i.schema, i.table_name)
        if i.constraint_type == "p" and i.constraint_name is not None:
            keys_by_table[table] = PrimaryKey(
                i.constraint_name, tuple(i.key_columns[: i.key_count]), i.attached
            )
        elif i.constraint_type is None:
            indexes_by_table[table].append(_index(i))
    result: dict[QualifiedName, Table] = {}
    for t in tables:
        name = QualifiedName(t.schema, t.name)
        result[name] = Table(
            name=name,
            columns=tuple(columns_by_table[name]),
            primary_key=keys_by_table.get(name),
            indexes=tuple(indexes_by_table[name]),
            comment=t.comment,
            partition_by=t.partition_by,
            partition_of=(
                QualifiedName(t.parent_schema, t.parent_name)
                if t.parent_schema is not None and t.parent_name is not None
                else None
            ),
            partition_bound=t.partition_bound,
            unlogged=t.unlogged,
            row_security=t.row_security,
            replica_identity=t.replica_identity,
        )
    return Catalog(
        tables=result,
        extensions=frozenset(e.name for e in extensions),
        schemas=frozenset(s.name for s in schemas),
        server_version=server_version,
    )


def with_constraints(catalog: Catalog, rows: list[ConstraintRow]) -> Catalog:
    """The catalog with each table's UNIQUE, FOREIGN KEY and CHECK constraints added."""
    grouped: dict[QualifiedName, list[ConstraintRow]] = defaultdict(list)
    for row in rows:
        grouped[QualifiedName(row.schema, row.table_name)].append(row)
    tables = dict(catalog.tables)
    inbound: list[tuple[QualifiedName, ForeignKey]] = []
    for name, table_rows in grouped.items():
        if name not in tables:
            inbound.extend((name, _foreign_key(r)) for r in table_rows if r.kind == "f")
            continue
        tables[name] = replace(
            tables[name],
            unique=tuple(_unique(r) for r in table_rows if r.kind == "u"),
            foreign_keys=tuple(_foreign_key(r) for r in table_rows if r.kind == "f"),
            checks=tuple(
                Check(r.name, r.expression or "", r.valid, r.no_inherit)
                for r in table_rows
                if r.kind == "c"
            ),
            exclusions=tuple(
                Exclusion(r.name, r.expression or "") for r in table_rows if r.kind == "x"
            ),
        )
    return replace(catalog, tables=tables, inbound_foreign_keys=tuple(inbound))


def _unique(row: ConstraintRow) -> UniqueConstraint:
    return UniqueConstraint(
        row.name,
        tuple(row.columns),
        row.deferrable,
        row.initially_deferred,
        not row.nulls_not_distinct,
    )


def _foreign_key(row: ConstraintRow) -> ForeignKey:
    return ForeignKey(
        name=row.name,
        columns=tuple(row.columns),
        references=QualifiedName(row.ref_schema or "", row.ref_table or ""),
        referenced_columns=tuple(row.ref_columns),
        on_delete=FK_ACTIONS.get(row.on_delete, "no_action"),
        on_update=FK_ACTIONS.get(row.on_update, "no_action"),
        deferrable=row.deferrable,
        initially_deferred=row.initially_deferred,
        valid=row.valid,
    )


def _index(row: IndexRow) -> Index:
    keys = tuple(
        IndexKey(
            expr=row.key_columns[k] or row.key_defs[k],
            is_column=bool(row.key_columns[k]),
            opclass=row.opclasses[k] or None,
            descending=bool(row.key_options[k] & INDOPTION_DESC),
            nulls_first=bool(row.key_options[k] & INDOPTION_NULLS_FIRST),
            collation=row.collations[k] or None,
        )
        for k in range(row.key_count)
    )
    options = tuple(sorted(tuple(o.split("=", 1)) for o in row.reloptions))
    return Index(
        name=row.name,
        keys=keys,
        unique=row.is_unique,
        method=row.method,
        where=row.predicate,
        include=tuple(row.key_columns[row.key_count :]),
        nulls_distinct=not row.nulls_not_distinct,
        with_options=cast(tuple[tuple[str, str], ...], options),
        comment=row.comment,
        attached=row.attached,
        parts=tuple(
            (QualifiedName(schema, table), index, valid == "true")
            for schema, table, index, valid in row.parts
        ),
        valid=row.valid or row.building,  # in progress elsewhere: neither ours nor broken
    )
