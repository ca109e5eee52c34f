"""DDL for primary keys, unique, foreign key and check constraints."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import (
    Statement,
    alter_table,
    qualified,
    statements,
)
from mmschema.kinds.tables.indexes import create_index, drop_index_concurrently
from mmschema.kinds.tables.model import (
    Check,
    Exclusion,
    ForeignKey,
    Index,
    IndexKey,
    UniqueConstraint,
)
from mmschema.locks import Form
from mmschema.model import QualifiedName


@statements.register
def _(change: ch.AddPrimaryKey) -> list[Statement]:
    name = sql.Identifier(change.key.name)
    if change.index == "plain":
        action = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY ({})").format(
            name, sql.SQL(", ").join(map(sql.Identifier, change.key.columns))
        )
        return [alter_table(change.table, Form.ADD_PRIMARY_KEY, action)]
    attach = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(name, name)
    result = [alter_table(change.table, Form.ADD_PRIMARY_KEY_USING_INDEX, attach)]
    if change.index == "build":
        index = Index(change.key.name, tuple(IndexKey(c) for c in change.key.columns), unique=True)
        result[:0] = [
            drop_index_concurrently(change.table.schema, change.key.name),
            create_index(change.table, index, change.key.name, concurrently=True),
        ]
    return result


@statements.register
def _(change: ch.DropPrimaryKey) -> list[Statement]:
    action = sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(change.key.name))
    return [alter_table(change.table, Form.DROP_CONSTRAINT, action)]


def deferrable_clause(deferrable: bool, initially_deferred: bool) -> sql.Composable:
    if not deferrable:
        return sql.SQL("")
    return sql.SQL(" DEFERRABLE INITIALLY DEFERRED" if initially_deferred else " DEFERRABLE")


def unique_definition(constraint: UniqueConstraint) -> sql.Composable:
    return sql.SQL("CONSTRAINT {} UNIQUE{} ({}){}").format(
        sql.Identifier(constraint.name),
        sql.SQL("" if constraint.nulls_distinct else " NULLS NOT DISTINCT"),
        sql.SQL(", ").join(map(sql.Identifier, constraint.columns)),
        deferrable_clause(constraint.deferrable, constraint.initially_deferred),
    )


def unique_index(table: QualifiedName, constraint: UniqueConstraint) -> Index:
    """The index a UNIQUE constraint is attached to when added online."""
    return Index(
        name=constraint.name,
        keys=tuple(IndexKey(c) for c in constraint.columns),
        unique=True,
        nulls_distinct=constraint.nulls_distinct,
    )


@statements.register
def _(change: ch.AddUnique) -> list[Statement]:
    constraint = change.constraint
    if not change.using_index:
        return [
            alter_table(
                change.table,
                Form.ADD_UNIQUE,
                sql.SQL("ADD {}").format(unique_definition(constraint)),
            )
        ]
    attach = sql.SQL("ADD CONSTRAINT {} UNIQUE USING INDEX {}{}").format(
        sql.Identifier(constraint.name),
        sql.Identifier(constraint.name),
        deferrable_clause(constraint.deferrable, constraint.initially_deferred),
    )
    return [
        drop_index_concurrently(change.table.schema, constraint.name),
        create_index(change.table, unique_index(change.table, constraint), constraint.name, True),
        alter_table(change.table, Form.ADD_UNIQUE_USING_INDEX, attach),
    ]


FK_ACTION_SQL = {
    "no_action": "NO ACTION",
    "restrict": "RESTRICT",
    "cascade": "CASCADE",
    "set_null": "SET NULL",
    "set_default": "SET DEFAULT",
}


def foreign_key_definition(key: ForeignKey) -> sql.Composable:
    return sql.SQL(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}{}"
    ).format(
        sql.Identifier(key.name),
        sql.SQL(", ").join(map(sql.Identifier, key.columns)),
        qualified(key.references),
        sql.SQL(", ").join(map(sql.Identifier, key.referenced_columns)),
        sql.SQL(FK_ACTION_SQL[key.on_delete]),
        sql.SQL(FK_ACTION_SQL[key.on_update]),
        deferrable_clause(key.deferrable, key.initially_deferred),
    )


@statements.register
def _(change: ch.AddForeignKey) -> list[Statement]:
    suffix = sql.SQL(" NOT VALID" if change.not_valid else "")
    action = sql.SQL("ADD {}{}").format(foreign_key_definition(change.key), suffix)
    return [alter_table(change.table, Form.ADD_FOREIGN_KEY, action)]


def check_definition(check: Check) -> sql.Composable:
    return sql.SQL("CONSTRAINT {} CHECK ({}){}").format(
        sql.Identifier(check.name),
        sql.SQL(check.expression),
        sql.SQL(" NO INHERIT" if check.no_inherit else ""),
    )


@statements.register
def _(change: ch.AddCheck) -> list[Statement]:
    suffix = sql.SQL(" NOT VALID" if change.not_valid else "")
    action = sql.SQL("ADD {}{}").format(check_definition(change.check), suffix)
    return [alter_table(change.table, Form.ADD_CHECK, action)]


@statements.register
def _(change: ch.ValidateConstraint) -> list[Statement]:
    action = sql.SQL("VALIDATE CONSTRAINT {}").format(sql.Identifier(change.name))
    return [alter_table(change.table, Form.VALIDATE_CONSTRAINT, action)]


def exclusion_definition(exclusion: Exclusion) -> sql.Composable:
    return sql.SQL("CONSTRAINT {} {}").format(
        sql.Identifier(exclusion.name), sql.SQL(exclusion.definition)
    )


@statements.register
def _(change: ch.AddExclusion) -> list[Statement]:
    action = sql.SQL("ADD {}").format(exclusion_definition(change.exclusion))
    return [alter_table(change.table, Form.ADD_EXCLUSION, action)]


@statements.register
def _(change: ch.DropConstraint) -> list[Statement]:
    action = sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(change.name))
    return [alter_table(change.table, Form.DROP_CONSTRAINT, action)]


@statements.register
def _(change: ch.RenameConstraint) -> list[Statement]:
    action = sql.SQL("RENAME CONSTRAINT {} TO {}").format(
        sql.Identifier(change.old), sql.Identifier(change.new)
    )
    return [alter_table(change.table, Form.RENAME_CONSTRAINT, action)]
