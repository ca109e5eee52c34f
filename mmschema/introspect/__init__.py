"""Reads the managed tables from pg_catalog in a fixed number of bulk queries."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, LiteralString, Protocol, TypeVar, cast

import psycopg
from psycopg.rows import class_row

from mmschema.kinds.routine_text import identity_of, routine_key
from mmschema.kinds.tables.model import (
    Check,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    IndexKey,
    Partition,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from mmschema.model import Catalog, Policy, QualifiedName, UserType, View

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


# `false /* 15: expression */` in a catalog statement: the expression from PostgreSQL 15 on
# (a column older servers do not have), `false` before.
SINCE_MAJOR = re.compile(r"false /\* (\d+): ([^*]+) \*/")


@cache
def catalog_sql_for(name: str, server_version: int) -> LiteralString:
    """catalog_sql(name) for this server: each version-marked expression in or out."""

    def for_server(match: re.Match[str]) -> str:
        return match[2].strip() if server_version >= int(match[1]) * 10000 else "false"

    text: LiteralString = SINCE_MAJOR.sub(for_server, catalog_sql(name))
    return text


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
    oid: int  # the managed partitioned table's
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


def read_catalog(
    conn: psycopg.Connection[Any], names: list[QualifiedName], dependents: bool = False
) -> Catalog:
    """The managed tables named (those that exist), read in one consistent snapshot, with
    the views that read them; dependents=True adds what with_dependents adds."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        catalog = read_catalog_in_transaction(conn, names)
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
    dependents = _fetch(conn, catalog_sql("column_dependents"), DependentRow, params)
    policies = _fetch(conn, catalog_sql("policies"), PolicyRow, params)
    catalog = with_per_table(catalog, "dependents", dependents, _dependent)
    catalog = with_per_table(catalog, "policies", policies, _policy)
    return replace(catalog, dependents_known=True)


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
    conn: psycopg.Connection[Any], names: list[QualifiedName], what_reads: bool = True
) -> Catalog:
    """The same read inside a transaction the caller owns (the scratch server's), without
    policies and dependents (with_dependents).

    what_reads=False leaves out the views that read the tables too: the scratch server
    creates none, so its read-backs skip that statement.
    """
    _settle(conn)
    version = conn.info.server_version
    params = _name_params(names)
    tables = conn.execute(catalog_sql("tables"), params).fetchall()
    # The other statements take the tables' oids, as one array literal (cheap to send).
    oids = {"oids": "{" + ",".join(str(t[0]) for t in tables) + "}"}
    columns = conn.execute(catalog_sql("columns"), oids).fetchall()
    indexes = conn.execute(catalog_sql_for("indexes", version), oids).fetchall()
    constraints = conn.execute(catalog_sql_for("constraints", version), oids).fetchall()
    extensions = _fetch(conn, catalog_sql("extensions"), ExtensionRow, {})
    schemas = _fetch(conn, catalog_sql("schemas"), SchemaRow, {})
    types = _fetch(conn, catalog_sql("types"), TypeRow, {})
    catalog = build_catalog(tables, columns, indexes, constraints, extensions, version, schemas)
    partitioned = [str(t[0]) for t in tables if t[4] is not None]
    if partitioned:  # pg_partition_tree for the partitioned tables alone
        of_partitioned = {"oids": "{" + ",".join(partitioned) + "}"}
        partitions = _fetch(conn, catalog_sql("partitions"), PartitionRow, of_partitioned)
        by_oid = {t[0]: QualifiedName(t[1], t[2]) for t in tables}
        catalog = with_partitions(catalog, partitions, by_oid)
    catalog = replace(catalog, types=tuple(map(_user_type, types)))
    if not what_reads:
        return catalog
    views = _fetch(conn, catalog_sql("views"), ViewRow, oids)
    return replace(catalog, views=tuple(map(_view, views)))


def read_indexes(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName]
) -> dict[QualifiedName, tuple[Index, ...]]:
    """The standalone indexes (no constraint's) of the relations named, of any kind (a
    materialized view's too), inside the caller's transaction with search_path pg_catalog."""
    relations = conn.execute(catalog_sql("relations"), _name_params(list(names))).fetchall()
    oids = {"oids": "{" + ",".join(str(r[0]) for r in relations) + "}"}
    rows = conn.execute(catalog_sql_for("indexes", conn.info.server_version), oids).fetchall()
    by_oid = {r[0]: QualifiedName(r[1], r[2]) for r in relations}
    found: dict[QualifiedName, list[Index]] = defaultdict(list)
    for row in rows:
        if row[9] is None:
            found[by_oid[row[0]]].append(_index(row))
    return {name: tuple(indexes) for name, indexes in found.items()}


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


def with_partitions(
    catalog: Catalog, rows: list[PartitionRow], by_oid: dict[int, QualifiedName]
) -> Catalog:
    """The catalog with each partitioned table's partitions (every level) added."""
    grouped: dict[QualifiedName, list[Partition]] = defaultdict(list)
    for row in rows:
        grouped[by_oid[row.oid]].append(_partition(row))
    tables = dict(catalog.tables)
    for name, partitions in grouped.items():
        tables[name] = replace(tables[name], partitions=tuple(partitions))
    return replace(catalog, tables=tables)


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


def _fetch(
    conn: psycopg.Connection[Any], query: LiteralString, row: type[R], params: dict[str, Any]
) -> list[R]:
    with conn.cursor(row_factory=class_row(row)) as cur:
        cur.execute(query, params)
        return cur.fetchall()


# The four big statements come back as plain tuples (no row class: these loops run once
# per column, index and constraint of the database); their columns, in order:
# tables:      oid, schema, name, comment, partition_by, parent_schema, parent_name,
#              partition_bound, unlogged, row_security, replica_identity
# columns:     oid, name, type, nullable, default, identity, generated, collation, comment,
#              identity_options
# indexes:     oid, name, is_unique, valid, building, method, key_count, predicate,
#              reloptions, constraint_type, constraint_name, nulls_not_distinct, comment,
#              attached, parts, keys
# constraints: schema, table_name, name, kind, deferrable, initially_deferred, valid,
#              no_inherit, columns, ref_schema, ref_table, ref_columns, on_delete,
#              on_update, expression, nulls_not_distinct


def build_catalog(
    tables: list[tuple[Any, ...]],
    columns: list[tuple[Any, ...]],
    indexes: list[tuple[Any, ...]],
    constraints: list[tuple[Any, ...]],
    extensions: list[ExtensionRow],
    server_version: int,
    schemas: list[SchemaRow],
) -> Catalog:
    columns_by_table: dict[int, list[Column]] = defaultdict(list)
    for (
        oid,
        name,
        type_,
        nullable,
        default,
        identity,
        generated,
        collation,
        comment,
        options,
    ) in columns:
        columns_by_table[oid].append(
            Column(
                name=name,
                type=type_,
                nullable=nullable,
                default=default,
                identity=identity,
                generated=generated,
                collation=collation,
                comment=comment,
                identity_options=tuple((k, v) for k, v in options),
            )
        )
    indexes_by_table: dict[int, list[Index]] = defaultdict(list)
    keys_by_table: dict[int, PrimaryKey] = {}
    for row in indexes:
        constraint_type, constraint_name = row[9], row[10]
        if constraint_type == "p" and constraint_name is not None:
            columns_of_key = tuple(k[0] for k in row[15][: row[6]])
            keys_by_table[row[0]] = PrimaryKey(constraint_name, columns_of_key, row[13])
        elif constraint_type is None:
            indexes_by_table[row[0]].append(_index(row))
    constraints_by_table: dict[QualifiedName, list[tuple[Any, ...]]] = defaultdict(list)
    for row in constraints:
        constraints_by_table[QualifiedName(row[0], row[1])].append(row)
    result: dict[QualifiedName, Table] = {}
    for oid, schema, name, comment, partition_by, parent_schema, parent_name, *rest in tables:
        bound, unlogged, row_security, replica_identity = rest
        qualified = QualifiedName(schema, name)
        own = constraints_by_table.pop(qualified, [])
        result[qualified] = Table(
            name=qualified,
            columns=tuple(columns_by_table[oid]),
            primary_key=keys_by_table.get(oid),
            indexes=tuple(indexes_by_table[oid]),
            comment=comment,
            unique=tuple(_unique(r) for r in own if r[3] == "u"),
            foreign_keys=tuple(_foreign_key(r) for r in own if r[3] == "f"),
            checks=tuple(Check(r[2], r[14] or "", r[6], r[7]) for r in own if r[3] == "c"),
            exclusions=tuple(Exclusion(r[2], r[14] or "") for r in own if r[3] == "x"),
            partition_by=partition_by,
            partition_of=(
                QualifiedName(parent_schema, parent_name)
                if parent_schema is not None and parent_name is not None
                else None
            ),
            partition_bound=bound,
            unlogged=unlogged,
            row_security=row_security,
            replica_identity=replica_identity,
        )
    # What is left: foreign keys of other tables that reference a managed one.
    inbound = tuple(
        (name, _foreign_key(r))
        for name, rows in constraints_by_table.items()
        for r in rows
        if r[3] == "f"
    )
    return Catalog(
        tables=result,
        extensions=frozenset(e.name for e in extensions),
        schemas=frozenset(s.name for s in schemas),
        inbound_foreign_keys=inbound,
        server_version=server_version,
    )


def _unique(row: tuple[Any, ...]) -> UniqueConstraint:
    return UniqueConstraint(row[2], tuple(row[8]), row[4], row[5], not row[15])


def _foreign_key(row: tuple[Any, ...]) -> ForeignKey:
    return ForeignKey(
        name=row[2],
        columns=tuple(row[8]),
        references=QualifiedName(row[9] or "", row[10] or ""),
        referenced_columns=tuple(row[11]),
        on_delete=FK_ACTIONS.get(row[12], "no_action"),
        on_update=FK_ACTIONS.get(row[13], "no_action"),
        deferrable=row[4],
        initially_deferred=row[5],
        valid=row[6],
    )


def _index(row: tuple[Any, ...]) -> Index:
    (_, name, is_unique, valid, building, method, key_count, predicate, reloptions) = row[:9]
    nulls_not_distinct, comment, attached, parts, key_rows = row[11:16]
    keys = tuple(
        IndexKey(
            expr=column or expression,
            is_column=bool(column),
            opclass=opclass or None,
            descending=bool(int(option) & INDOPTION_DESC),
            nulls_first=bool(int(option) & INDOPTION_NULLS_FIRST),
            collation=collation or None,
        )
        for column, expression, opclass, option, collation in key_rows[:key_count]
    )
    options = tuple(sorted(tuple(o.split("=", 1)) for o in reloptions))
    return Index(
        name=name,
        keys=keys,
        unique=is_unique,
        method=method,
        where=predicate,
        include=tuple(k[0] for k in key_rows[key_count:]),
        nulls_distinct=not nulls_not_distinct,
        with_options=cast(tuple[tuple[str, str], ...], options),
        comment=comment,
        attached=attached,
        parts=tuple(
            (QualifiedName(schema, table), index, part_valid == "true")
            for schema, table, index, part_valid in parts
        ),
        valid=valid or building,  # in progress elsewhere: neither ours nor broken
    )
