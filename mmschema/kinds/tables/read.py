"""Reads the managed tables with their columns, indexes, constraints and partitions from
pg_catalog in a fixed number of bulk queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
) -> TablesRead:
    """The tables named by `params` (schemas, names), inside the caller's transaction with
    search_path pg_catalog: one statement per part, whatever the table count. A `helper`
    (a second connection in the same snapshot) reads the indexes beside the columns."""
    tables = conn.execute(table_sql("tables", server_version), params).fetchall()
    # The other statements take the tables' oids, as one array literal (cheap to send).
    oids = {"oids": "{" + ",".join(str(t[0]) for t in tables) + "}"}

    def read_indexes(on: psycopg.Connection[Any]) -> list[Any]:
        return on.execute(table_sql("indexes", server_version), oids).fetchall()

    if helper is not None:
        helper.run(read_indexes)
    columns = conn.execute(table_sql("columns", server_version), oids).fetchall()
    indexes = helper.result(read_indexes) if helper is not None else read_indexes(conn)
    constraints = conn.execute(table_sql("constraints", server_version), oids).fetchall()
    built, inbound = build_tables(tables, columns, indexes, constraints)
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
            found[by_oid[row[0]]].append(_index(row))
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


def build_tables(
    tables: list[tuple[Any, ...]],
    columns: list[tuple[Any, ...]],
    indexes: list[tuple[Any, ...]],
    constraints: list[tuple[Any, ...]],
) -> tuple[dict[QualifiedName, Table], tuple[tuple[QualifiedName, ForeignKey], ...]]:
    """The tables of the rows, and the foreign keys of other tables that reference them."""
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
                identity_options=() if options is None else tuple(map(tuple, options)),
            )
        )
    indexes_by_table: dict[int, list[Index]] = defaultdict(list)
    keys_by_table: dict[int, PrimaryKey] = {}
    for row in indexes:
        constraint_type, constraint_name = row[9], row[10]
        if constraint_type == "p" and constraint_name is not None:
            columns_of_key = tuple(k[0] for k in row[15][: row[6]])
            keys_by_table[row[0]] = PrimaryKey(
                constraint_name, columns_of_key, row[13], row[16] and not row[13]
            )
        elif constraint_type is None:
            indexes_by_table[row[0]].append(_index(row))
    constraints_by_table: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    inbound_rows: list[tuple[Any, ...]] = []
    for row in constraints:
        if row[1] is None:
            constraints_by_table[row[0]].append(row)
        else:
            inbound_rows.append(row)
    result: dict[QualifiedName, Table] = {}
    for oid, schema, name, comment, partition_by, parent_schema, parent_name, *rest in tables:
        bound, unlogged, row_security, replica_identity = rest
        qualified = QualifiedName(schema, name)
        own = constraints_by_table.get(oid, [])
        result[qualified] = Table(
            name=qualified,
            columns=tuple(columns_by_table[oid]),
            primary_key=keys_by_table.get(oid),
            indexes=tuple(indexes_by_table[oid]),
            comment=comment,
            unique=tuple(_unique(r) for r in own if r[4] == "u"),
            foreign_keys=tuple(_foreign_key(r) for r in own if r[4] == "f"),
            checks=tuple(Check(r[3], r[15] or "", r[7], r[8]) for r in own if r[4] == "c"),
            exclusions=tuple(Exclusion(r[3], r[15] or "") for r in own if r[4] == "x"),
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
            constraint_comments=tuple((r[3], r[17]) for r in own if r[17] is not None),
        )
    # Foreign keys of other tables that reference a managed one.
    inbound = tuple(
        (QualifiedName(r[1], r[2]), _foreign_key(r)) for r in inbound_rows if r[4] == "f"
    )
    return result, inbound


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
