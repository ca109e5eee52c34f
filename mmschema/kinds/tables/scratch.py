"""The table family on the scratch server: each declared table's statements, one per
object so that an error points at its declaration, and a live catalog's tables rebuilt."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from psycopg import sql

from mmschema import changes as ch
from mmschema import ddl
from mmschema.desired.declared import DeclaredIndex, DeclaredTable, Source
from mmschema.kinds.base import ScratchStep
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.columns import column_definition
from mmschema.kinds.tables.constraints import (
    check_definition,
    exclusion_definition,
    unique_definition,
)
from mmschema.kinds.tables.indexes import create_index
from mmschema.kinds.tables.model import (
    Check,
    Column,
    Exclusion,
    Index,
    IndexKey,
    PrimaryKey,
    Table,
    UniqueConstraint,
    column_from,
    parents_first,
)
from mmschema.kinds.tables.tables import create_table, drop_table
from mmschema.locks import Form
from mmschema.model import Catalog
from mmschema.nextval import referenced_sequences


def raw_column(column: Any) -> Column:
    """The declared column as written (serial stays serial), for DDL of new objects."""
    return column_from(column)


def raw_index(index: DeclaredIndex) -> Index:
    keys = tuple(
        IndexKey(
            expr=key.column if key.column is not None else key.expr or "",
            is_column=key.column is not None,
            opclass=key.opclass,
            descending=key.order == "desc",
            nulls_first=(key.nulls == "first") if key.nulls else key.order == "desc",
            collation=key.collation,
        )
        for key in index.keys
    )
    return Index(
        name=index.name,
        keys=keys,
        unique=index.unique,
        method=index.using,
        where=index.where,
        include=index.include,
        nulls_distinct=index.nulls_distinct,
        with_options=index.with_options,
        comment=index.comment,
    )


def raw_table(table: DeclaredTable) -> Table:
    """The declared table as written, for DDL of new objects (serial stays serial)."""
    key = None
    if table.primary_key:
        name = table.primary_key.name or f"{table.name.name}_pkey"
        key = PrimaryKey(name, table.primary_key.columns)
    return Table(
        name=table.name,
        columns=tuple(raw_column(c) for c in table.present_columns()),
        primary_key=key,
        indexes=tuple(raw_index(i) for i in table.present_indexes()),
        comment=table.comment,
        partition_by=table.partition_by,
        partition_of=table.partition_of,
        partition_bound=table.partition_bound,
    )


def declared_at(source: Source, what: str) -> str:
    return f"{source}: {what}"


def table_steps(table: DeclaredTable) -> list[ScratchStep]:
    raw = raw_table(table)
    name = table.name
    label = f"table {name}"
    steps = [
        ScratchStep(
            ddl.render(ddl.create_schema(name.schema)), declared_at(table.source, label), name
        )
    ]
    if table.partition_of is not None:
        steps.append(ScratchStep(_create_bare(raw), declared_at(table.source, label), name))
        steps.extend(_partition_column_steps(table))
    else:
        empty = ddl.render(ddl.create_empty_table(name))
        steps.append(ScratchStep(empty, declared_at(table.source, label), name))
    for declared, column in zip(table.present_columns(), raw.columns, strict=True):
        for sequence in referenced_sequences(column.default or ""):
            sequence_sql = sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(sql.SQL(sequence))
            where = declared_at(declared.source, f"column {column.name!r}")
            steps.append(ScratchStep(ddl.render(sequence_sql), where, name))
        add = ddl.alter_table(
            name,
            Form.ADD_COLUMN,
            sql.SQL("ADD COLUMN {}").format(column_definition(column)),
        )
        steps.append(
            ScratchStep(add.sql, declared_at(declared.source, f"column {column.name!r}"), name)
        )
    if table.partition_by is not None and table.partition_of is None:
        # Columns were checked one by one above; a table is partitioned only when created.
        where = declared_at(table.source, f"{label} (partition_by)")
        steps.append(ScratchStep(drop_table(name).sql, where, name))
        steps.append(ScratchStep(_create_bare(raw), where, name))
    if table.primary_key:
        columns = sql.SQL(", ").join(map(sql.Identifier, table.primary_key.columns))
        if table.primary_key.name:
            action = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                sql.Identifier(table.primary_key.name), columns
            )
        else:
            action = sql.SQL("ADD PRIMARY KEY ({})").format(columns)
        pk = ddl.alter_table(name, Form.ADD_PRIMARY_KEY, action)
        steps.append(ScratchStep(pk.sql, declared_at(table.source, "primary_key"), name))
    for unique in table.unique:
        constraint = UniqueConstraint(
            unique.name,
            unique.columns,
            unique.deferrable,
            unique.initially_deferred,
            unique.nulls_distinct,
        )
        action = sql.SQL("ADD {}").format(unique_definition(constraint))
        statement = ddl.alter_table(name, Form.ADD_UNIQUE, action)
        steps.append(
            ScratchStep(statement.sql, declared_at(unique.source, f"unique {unique.name!r}"), name)
        )
    for check in table.checks:
        defined = Check(check.name, check.expr, no_inherit=check.no_inherit)
        action = sql.SQL("ADD {}").format(check_definition(defined))
        statement = ddl.alter_table(name, Form.ADD_CHECK, action)
        steps.append(
            ScratchStep(statement.sql, declared_at(check.source, f"check {check.name!r}"), name)
        )
    for exclusion in table.exclusions:
        body = Exclusion(exclusion.name, f"EXCLUDE {exclusion.body}")
        action = sql.SQL("ADD {}").format(exclusion_definition(body))
        statement = ddl.alter_table(name, Form.ADD_EXCLUSION, action)
        where = declared_at(exclusion.source, f"exclude {exclusion.name!r}")
        steps.append(ScratchStep(statement.sql, where, name))
    for statement in create_table(replace(raw, columns=raw.columns, primary_key=None))[1:]:
        steps.append(ScratchStep(statement.sql, declared_at(table.source, label), name))
    for declared_index, index in zip(table.present_indexes(), raw.indexes, strict=True):
        where = declared_at(declared_index.source, f"index {index.name!r}")
        create = create_index(name, index, index.name, concurrently=False)
        steps.append(ScratchStep(create.sql, where, name))
        if index.comment is not None:
            steps.append(
                ScratchStep(ddl.comment("index", name, index.name, index.comment).sql, where, name)
            )
    return steps


def partition_column_changes(table: DeclaredTable) -> list[ch.Change]:
    """A partition's own NOT NULL and DEFAULT, as ALTERs after its PARTITION OF."""
    found: list[ch.Change] = []
    for column in table.partition_columns:
        if column.nullable is not None:
            found.append(
                cc.AlterColumnNullability(table.name, column.name, column.nullable, online=False)
            )
        if column.default_given:
            found.append(cc.AlterColumnDefault(table.name, column.name, None, column.default))
    return found


def _partition_column_steps(table: DeclaredTable) -> list[ScratchStep]:
    return [
        ScratchStep(
            statement.sql,
            declared_at(column.source, f"column {column.name!r}"),
            table.name,
        )
        for column in table.partition_columns
        for change in partition_column_changes(replace(table, partition_columns=(column,)))
        for statement in ddl.statements(change)
    ]


def _create_bare(table: Table) -> str:
    """CREATE TABLE alone (its key and comment are separate steps, pointing at the file)."""
    return create_table(replace(table, primary_key=None, comment=None))[0].sql


def live_table_steps(catalog: Catalog) -> list[ScratchStep]:
    """Statements that rebuild a live catalog's tables, parents first."""
    steps: list[ScratchStep] = []
    for table in parents_first(list(catalog.tables.values())):
        where = f"live table {table.name}"
        schema = ddl.render(ddl.create_schema(table.name.schema))
        steps.append(ScratchStep(schema, where, table.name))
        steps.extend(ScratchStep(s.sql, where, table.name) for s in create_table(table))
        for unique in table.unique:
            action = sql.SQL("ADD {}").format(unique_definition(unique))
            add = ddl.alter_table(table.name, Form.ADD_UNIQUE, action)
            steps.append(ScratchStep(add.sql, where, table.name))
        for check in table.checks:
            action = sql.SQL("ADD {}").format(check_definition(check))
            add = ddl.alter_table(table.name, Form.ADD_CHECK, action)
            steps.append(ScratchStep(add.sql, where, table.name))
        for exclusion in table.exclusions:
            action = sql.SQL("ADD {}").format(exclusion_definition(exclusion))
            add = ddl.alter_table(table.name, Form.ADD_EXCLUSION, action)
            steps.append(ScratchStep(add.sql, where, table.name))
        for index in table.indexes:
            created = create_index(table.name, index, index.name, concurrently=False)
            steps.append(ScratchStep(created.sql, where, table.name))
            if index.comment is not None:
                comment = ddl.comment("index", table.name, index.name, index.comment)
                steps.append(ScratchStep(comment.sql, where, table.name))
    return steps
