"""Reads the managed tables with their columns, indexes, constraints and partitions from
pg_catalog in a fixed number of bulk queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, LiteralString, cast

import psycopg

from mmschema.catalogsql import fetch_rows, packaged_sql_for
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
from mmschema.model import QualifiedName
from mmschema.snapshot_helper import SnapshotHelper

INDOPTION_DESC = 1
INDOPTION_NULLS_FIRST = 2


def table_sql(name: str, server_version: int) -> LiteralString:
    """The text of kinds/tables/sql/<name>.sql for this server."""
    return packaged_sql_for("mmschema.kinds.tables", name, server_version)


FK_ACTIONS = {
    "a": "no_action",
    "r": "restrict",
    "c": "cascade",
    "n": "set_null",
    "d": "set_default",
}


# Reads on the first connection, given the tables' oids, while the helper reads the indexes.
Meanwhile = Callable[[psycopg.Connection[Any], dict[str, str]], None]


@dataclass
class PartitionRow:
    oid: int  # the managed partitioned table's
    partition_schema: str
    partition_name: str
    parent_schema: str
    parent_name: str
    partitioned: bool


@dataclass(frozen=True)
class TablesRead:
    """The managed tables that exist, as read, and what the other reads of the same
    snapshot need of them."""

    tables: dict[QualifiedName, Table]
    # Foreign keys of tables outside the file that reference a managed table.
    inbound_foreign_keys: tuple[tuple[QualifiedName, ForeignKey], ...]
    oids: dict[str, str]  # {"oids": the tables' oids as one array literal (cheap to send)}


def read_tables(
    conn: psycopg.Connection[Any],
    params: dict[str, Any],
    server_version: int,
    helper: SnapshotHelper | None = None,
    meanwhile: Meanwhile | None = None,
) -> TablesRead:
    """The tables named by `params` (schemas, names), inside the caller's transaction with
    search_path pg_catalog: one statement per part, whatever the table count. A `helper`
    (a second connection in the same snapshot) reads the indexes beside the columns;
    `meanwhile` reads more on `conn` (given the tables' oids) while it does."""
    tables = conn.execute(table_sql("tables", server_version), params).fetchall()
    # The other statements take the tables' oids, as one array literal (cheap to send).
    oids = {"oids": "{" + ",".join(str(t[0]) for t in tables) + "}"}

    def read_indexes(on: psycopg.Connection[Any]) -> list[Any]:
        return on.execute(table_sql("indexes", server_version), oids).fetchall()

    if helper is not None:
        helper.run(read_indexes)
    columns = conn.execute(table_sql("columns", server_version), oids).fetchall()
    constraints = conn.execute(table_sql("constraints", server_version), oids).fetchall()
    if meanwhile is not None:
        meanwhile(conn, oids)
    # Built while the helper may still be reading the indexes.
    columns_by_table = columns_of(columns)
    constraints_by_table, inbound = constraints_of(constraints)
    indexes = helper.result(read_indexes) if helper is not None else read_indexes(conn)
    built = build_tables(tables, columns_by_table, indexes_of(indexes), constraints_by_table)
    partitioned = [str(t[0]) for t in tables if t[4] is not None]
    if partitioned:  # pg_partition_tree for the partitioned tables alone
        of_partitioned = {"oids": "{" + ",".join(partitioned) + "}"}
        query = table_sql("partitions", server_version)
        partitions = fetch_rows(conn, query, PartitionRow, of_partitioned)
        by_oid = {t[0]: QualifiedName(t[1], t[2]) for t in tables}
        built = with_partitions(built, partitions, by_oid)
    return TablesRead(built, inbound, oids)


def read_indexes(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName]
) -> dict[QualifiedName, tuple[Index, ...]]:
    """The standalone indexes (no constraint's) of the relations named, of any kind (a
    materialized view's too), inside the caller's transaction with search_path pg_catalog."""
    version = conn.info.server_version
    params = {"schemas": [n.schema for n in names], "names": [n.name for n in names]}
    relations = conn.execute(table_sql("relations", version), params).fetchall()
    oids = {"oids": "{" + ",".join(str(r[0]) for r in relations) + "}"}
    rows = conn.execute(table_sql("indexes", version), oids).fetchall()
    by_oid = {r[0]: QualifiedName(r[1], r[2]) for r in relations}
    found: dict[QualifiedName, list[Index]] = defaultdict(list)
    for row in rows:
        if row[9] is None:
            found[by_oid[row[0]]].append(_index(row, {}))
    return {name: tuple(indexes) for name, indexes in found.items()}


def _partition(row: PartitionRow) -> Partition:
    return Partition(
        QualifiedName(row.partition_schema, row.partition_name),
        QualifiedName(row.parent_schema, row.parent_name),
        row.partitioned,
    )


def with_partitions(
    tables: dict[QualifiedName, Table], rows: list[PartitionRow], by_oid: dict[int, QualifiedName]
) -> dict[QualifiedName, Table]:
    """The tables with each partitioned table's partitions (every level) added."""
    grouped: dict[QualifiedName, list[Partition]] = defaultdict(list)
    for row in rows:
        grouped[by_oid[row.oid]].append(_partition(row))
    tables = dict(tables)
    for name, partitions in grouped.items():
        tables[name] = replace(tables[name], partitions=tuple(partitions))
    return tables


# The four big statements come back as plain tuples (no row class: these loops run once
# per column, index and constraint of the database); their columns, in order:
# tables:      oid, schema, name, comment, partition_by, parent_schema, parent_name,
#              partition_bound, unlogged, row_security, replica_identity
# columns:     oid, name, type, nullable, default, identity, generated, collation, comment,
#              identity_options
# indexes:     oid, name, is_unique, valid, building, method, key_count, predicate,
#              reloptions, constraint_type, constraint_name, nulls_not_distinct, comment,
#              attached, parts, keys, under_parent_index
# constraints: oid, schema, table_name (of inbound ones only), name, kind, deferrable,
#              initially_deferred, valid, no_inherit, columns, ref_schema, ref_table,
#              ref_columns, on_delete, on_update, expression, nulls_not_distinct, comment


def columns_of(rows: list[tuple[Any, ...]]) -> dict[int, list[Column]]:
    """The columns of the rows, by their table's oid. Equal columns are one Column (frozen):
    the tables of a schema-per-tenant database repeat the same few thousand times."""
    by_table: dict[int, list[Column]] = defaultdict(list)
    made: dict[tuple[Any, ...], Column] = {}
    for row in rows:
        options = row[9]
        if options is None:
            column = made.get(row[1:9])
            if column is None:
                column = made[row[1:9]] = _column(row, ())
        else:
            column = _column(row, tuple(map(tuple, options)))
        by_table[row[0]].append(column)
    return by_table


def _column(row: tuple[Any, ...], options: tuple[tuple[str, str], ...]) -> Column:
    _, name, type_, nullable, default, identity, generated, collation, comment, _ = row
    return Column(
        name=name,
        type=type_,
        nullable=nullable,
        default=default,
        identity=identity,
        generated=generated,
        collation=collation,
        comment=comment,
        identity_options=options,
    )


@dataclass
class OwnConstraints:
    """A managed table's constraints but its primary key, as read."""

    unique: list[UniqueConstraint] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)


NO_CONSTRAINTS = OwnConstraints()


def constraints_of(
    rows: list[tuple[Any, ...]],
) -> tuple[dict[int, OwnConstraints], tuple[tuple[QualifiedName, ForeignKey], ...]]:
    """The managed tables' constraints by oid, and the foreign keys of other tables that
    reference a managed one."""
    by_table: dict[int, OwnConstraints] = defaultdict(OwnConstraints)
    inbound: list[tuple[QualifiedName, ForeignKey]] = []
    for row in rows:
        kind = row[4]
        if row[1] is not None:  # an inbound foreign key: the one kind read of other tables
            inbound.append((QualifiedName(row[1], row[2]), _foreign_key(row)))
            continue
        own = by_table[row[0]]
        if kind == "u":
            own.unique.append(_unique(row))
        elif kind == "f":
            own.foreign_keys.append(_foreign_key(row))
        elif kind == "c":
            own.checks.append(Check(row[3], row[15] or "", row[7], row[8]))
        elif kind == "x":
            own.exclusions.append(Exclusion(row[3], row[15] or ""))
        if row[17] is not None:
            own.comments.append((row[3], row[17]))
    return by_table, tuple(inbound)


def indexes_of(
    rows: list[tuple[Any, ...]],
) -> tuple[dict[int, list[Index]], dict[int, PrimaryKey]]:
    """The standalone indexes and the primary keys of the rows, by their table's oid."""
    indexes_by_table: dict[int, list[Index]] = defaultdict(list)
    keys_by_table: dict[int, PrimaryKey] = {}
    made_keys: dict[tuple[Any, ...], IndexKey] = {}
    for row in rows:
        constraint_type, constraint_name = row[9], row[10]
        if constraint_type == "p" and constraint_name is not None:
            columns_of_key = tuple(k[0] for k in row[15][: row[6]])
            keys_by_table[row[0]] = PrimaryKey(
                constraint_name, columns_of_key, row[13], row[16] and not row[13]
            )
        elif constraint_type is None:
            indexes_by_table[row[0]].append(_index(row, made_keys))
    return indexes_by_table, keys_by_table


def build_tables(
    tables: list[tuple[Any, ...]],
    columns_by_table: dict[int, list[Column]],
    indexes: tuple[dict[int, list[Index]], dict[int, PrimaryKey]],
    constraints_by_table: dict[int, OwnConstraints],
) -> dict[QualifiedName, Table]:
    """The tables of the rows, with their columns, indexes and constraints."""
    indexes_by_table, keys_by_table = indexes
    result: dict[QualifiedName, Table] = {}
    for oid, schema, name, comment, partition_by, parent_schema, parent_name, *rest in tables:
        bound, unlogged, row_security, replica_identity = rest
        qualified = QualifiedName(schema, name)
        own = constraints_by_table.get(oid, NO_CONSTRAINTS)
        result[qualified] = Table(
            name=qualified,
            columns=tuple(columns_by_table.get(oid, ())),
            primary_key=keys_by_table.get(oid),
            indexes=tuple(indexes_by_table.get(oid, ())),
            comment=comment,
            unique=tuple(own.unique),
            foreign_keys=tuple(own.foreign_keys),
            checks=tuple(own.checks),
            exclusions=tuple(own.exclusions),
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
            constraint_comments=tuple(own.comments),
        )
    return result


def _unique(row: tuple[Any, ...]) -> UniqueConstraint:
    return UniqueConstraint(row[3], tuple(row[9]), row[5], row[6], not row[16])


def _foreign_key(row: tuple[Any, ...]) -> ForeignKey:
    return ForeignKey(
        name=row[3],
        columns=tuple(row[9]),
        references=QualifiedName(row[10] or "", row[11] or ""),
        referenced_columns=tuple(row[12]),
        on_delete=FK_ACTIONS.get(row[13], "no_action"),
        on_update=FK_ACTIONS.get(row[14], "no_action"),
        deferrable=row[5],
        initially_deferred=row[6],
        valid=row[7],
    )


def _index(row: tuple[Any, ...], made_keys: dict[tuple[Any, ...], IndexKey]) -> Index:
    """The index of a row; `made_keys` holds the IndexKeys (frozen) made so far, by their row."""
    (_, name, is_unique, valid, building, method, key_count, predicate, reloptions) = row[:9]
    nulls_not_distinct, comment, attached, parts, key_rows = row[11:16]
    keys = []
    for key_row in key_rows[:key_count]:
        made = tuple(key_row)
        key = made_keys.get(made)
        if key is None:
            key = made_keys[made] = _index_key(*made)
        keys.append(key)
    options = tuple(sorted(tuple(o.split("=", 1)) for o in reloptions)) if reloptions else ()
    return Index(
        name=name,
        keys=tuple(keys),
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
        )
        if parts
        else (),
        valid=valid or building,  # in progress elsewhere: neither ours nor broken
    )


def _index_key(column: str, expression: str, opclass: str, option: str, collation: str) -> IndexKey:
    return IndexKey(
        expr=column or expression,
        is_column=bool(column),
        opclass=opclass or None,
        descending=bool(int(option) & INDOPTION_DESC),
        nulls_first=bool(int(option) & INDOPTION_NULLS_FIRST),
        collation=collation or None,
    )
