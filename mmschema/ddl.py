"""Turns each change into its SQL statements, composed with psycopg.sql."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import singledispatch

from psycopg import sql

from mmschema import changes as ch
from mmschema.locks import Form, LockLevel, traits
from mmschema.model import (
    Check,
    Column,
    ForeignKey,
    Index,
    IndexKey,
    QualifiedName,
    Table,
    UniqueConstraint,
    UserType,
)


@dataclass(frozen=True)
class Statement:
    form: Form
    sql: str

    @property
    def lock(self) -> LockLevel:
        return traits(self.form).lock

    @property
    def transactional(self) -> bool:
        return traits(self.form).transactional

    @property
    def alone(self) -> bool:
        return traits(self.form).alone


def transaction_groups(statements: tuple[Statement, ...]) -> list[tuple[Statement, ...]]:
    """The statements of one change, grouped as they commit.

    Transactional statements share a transaction, except one that must commit alone
    (VALIDATE, whose scan should not hold the locks taken before it); a statement that
    cannot run in a transaction (CONCURRENTLY) runs by itself in autocommit.
    """
    groups: list[tuple[Statement, ...]] = []
    current: list[Statement] = []
    for statement in statements:
        if statement.transactional and not statement.alone:
            current.append(statement)
            continue
        if current:
            groups.append(tuple(current))
            current = []
        groups.append((statement,))
    if current:
        groups.append(tuple(current))
    return groups


def render(composed: sql.Composable) -> str:
    return composed.as_string(None)


def qualified(name: QualifiedName) -> sql.Composable:
    return sql.Identifier(name.schema, name.name)


def dotted(name: str) -> sql.Composable:
    """An object name that may be schema-qualified (opclass, collation from the file)."""
    return sql.Identifier(*name.split("."))


def _stmt(form: Form, composed: sql.Composable) -> Statement:
    return Statement(form, render(composed))


def column_definition(column: Column) -> sql.Composable:
    parts: list[sql.Composable] = [sql.Identifier(column.name), sql.SQL(column.type)]
    if column.collation:
        parts.append(sql.SQL("COLLATE {}").format(dotted(column.collation)))
    if column.generated:
        parts.append(sql.SQL("GENERATED ALWAYS AS ({}) STORED").format(sql.SQL(column.generated)))
    if column.identity:
        kind = "ALWAYS" if column.identity == "always" else "BY DEFAULT"
        parts.append(sql.SQL(f"GENERATED {kind} AS IDENTITY"))
    if column.default is not None and not column.generated and not column.identity:
        parts.append(sql.SQL("DEFAULT ({})").format(sql.SQL(column.default)))
    if not column.nullable:
        parts.append(sql.SQL("NOT NULL"))
    return sql.SQL(" ").join(parts)


def index_key(key: IndexKey) -> sql.Composable:
    parts: list[sql.Composable] = [
        sql.Identifier(key.expr) if key.is_column else sql.SQL("({})").format(sql.SQL(key.expr))
    ]
    if key.collation:
        parts.append(sql.SQL("COLLATE {}").format(dotted(key.collation)))
    if key.opclass:
        parts.append(dotted(key.opclass))
    if key.descending:
        parts.append(sql.SQL("DESC"))
        if not key.nulls_first:
            parts.append(sql.SQL("NULLS LAST"))
    elif key.nulls_first:
        parts.append(sql.SQL("NULLS FIRST"))
    return sql.SQL(" ").join(parts)


def access_method(name: str) -> sql.Composable:
    """Access methods print bare when they are plain lower-case names, as pg_get_indexdef does."""
    return sql.SQL(name) if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else sql.Identifier(name)


def create_index(table: QualifiedName, index: Index, name: str, concurrently: bool) -> Statement:
    parts: list[sql.Composable] = [
        sql.SQL("CREATE UNIQUE INDEX" if index.unique else "CREATE INDEX"),
    ]
    if concurrently:
        parts.append(sql.SQL("CONCURRENTLY"))
    parts.append(
        sql.SQL("{} ON {} USING {} ({})").format(
            sql.Identifier(name),
            qualified(table),
            access_method(index.method),
            sql.SQL(", ").join(index_key(k) for k in index.keys),
        )
    )
    if index.include:
        parts.append(
            sql.SQL("INCLUDE ({})").format(sql.SQL(", ").join(map(sql.Identifier, index.include)))
        )
    if not index.nulls_distinct:
        parts.append(sql.SQL("NULLS NOT DISTINCT"))
    if index.with_options:
        options = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in index.with_options
        )
        parts.append(sql.SQL("WITH ({})").format(options))
    if index.where:
        parts.append(sql.SQL("WHERE {}").format(sql.SQL(index.where)))
    form = Form.CREATE_INDEX_CONCURRENTLY if concurrently else Form.CREATE_INDEX
    return _stmt(form, sql.SQL(" ").join(parts))


def drop_index_concurrently(schema: str, name: str) -> Statement:
    return _stmt(
        Form.DROP_INDEX_CONCURRENTLY,
        sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(schema, name)),
    )


def rename_index(schema: str, old: str, new: str) -> Statement:
    return _stmt(
        Form.RENAME_INDEX,
        sql.SQL("ALTER INDEX {} RENAME TO {}").format(
            sql.Identifier(schema, old), sql.Identifier(new)
        ),
    )


def comment(target: str, table: QualifiedName, name: str, text: str | None) -> Statement:
    literal = sql.Literal(text) if text is not None else sql.SQL("NULL")
    if target == "table":
        obj = sql.SQL("TABLE {}").format(qualified(table))
    elif target == "column":
        obj = sql.SQL("COLUMN {}").format(sql.Identifier(table.schema, table.name, name))
    else:
        obj = sql.SQL("INDEX {}").format(sql.Identifier(table.schema, name))
    return _stmt(Form.COMMENT, sql.SQL("COMMENT ON {} IS {}").format(obj, literal))


def temporary_index_name(name: str) -> str:
    """The name a replacement index is built under (kept within NAMEDATALEN)."""
    return f"{name[:54]}_mmsnew"


def alter_table(table: QualifiedName, form: Form, action: sql.Composable) -> Statement:
    return _stmt(form, sql.SQL("ALTER TABLE {} {}").format(qualified(table), action))


@singledispatch
def statements(change: object) -> list[Statement]:
    raise TypeError(f"no DDL for {type(change).__name__}")


def statements_for_extension(name: str) -> str:
    return render(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))


def create_schema(name: str) -> sql.Composable:
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(name))


def create_empty_table(name: QualifiedName) -> sql.Composable:
    return sql.SQL("CREATE TABLE {} ()").format(qualified(name))


@statements.register
def _(change: ch.CreateExtension) -> list[Statement]:
    return [Statement(Form.CREATE_EXTENSION, statements_for_extension(change.name))]


@statements.register
def _(change: ch.CreateSchema) -> list[Statement]:
    return [_stmt(Form.CREATE_SCHEMA, create_schema(change.name))]


def create_table(table: Table) -> list[Statement]:
    elements = [column_definition(c) for c in table.columns]
    if table.primary_key:
        elements.append(
            sql.SQL("CONSTRAINT {} PRIMARY KEY ({})").format(
                sql.Identifier(table.primary_key.name),
                sql.SQL(", ").join(map(sql.Identifier, table.primary_key.columns)),
            )
        )
    result = [
        _stmt(
            Form.CREATE_TABLE,
            sql.SQL("CREATE TABLE {} ({})").format(
                qualified(table.name), sql.SQL(", ").join(elements)
            ),
        )
    ]
    if table.comment is not None:
        result.append(comment("table", table.name, table.name.name, table.comment))
    result.extend(
        comment("column", table.name, c.name, c.comment)
        for c in table.columns
        if c.comment is not None
    )
    return result


@statements.register
def _(change: ch.CreateTable) -> list[Statement]:
    return create_table(change.table)


@statements.register
def _(change: ch.DropTable) -> list[Statement]:
    return [_stmt(Form.DROP_TABLE, sql.SQL("DROP TABLE {}").format(qualified(change.table)))]


@statements.register
def _(change: ch.RenameTable) -> list[Statement]:
    action = sql.SQL("RENAME TO {}").format(sql.Identifier(change.new.name))
    return [alter_table(change.old, Form.RENAME_TABLE, action)]


@statements.register
def _(change: ch.RenameColumn) -> list[Statement]:
    action = sql.SQL("RENAME COLUMN {} TO {}").format(
        sql.Identifier(change.old), sql.Identifier(change.new)
    )
    return [alter_table(change.table, Form.RENAME_COLUMN, action)]


@statements.register
def _(change: ch.AddColumn) -> list[Statement]:
    action = sql.SQL("ADD COLUMN {}").format(column_definition(change.column))
    result = [alter_table(change.table, Form.ADD_COLUMN, action)]
    if change.column.comment is not None:
        result.append(comment("column", change.table, change.column.name, change.column.comment))
    if change.backfill:
        result.append(
            backfill(change.table, change.column.name, change.backfill, change.backfill_where)
        )
    return result


def backfill(table: QualifiedName, column: str, value: str, where: str | None) -> Statement:
    """The whole backfill as one UPDATE; it only touches rows that still need it."""
    target = sql.Identifier(column)
    expr = sql.SQL(value)
    condition = sql.SQL("{} IS DISTINCT FROM ({})").format(target, expr)
    if where:
        condition = sql.SQL("({}) AND {}").format(sql.SQL(where), condition)
    return _stmt(
        Form.BACKFILL,
        sql.SQL("UPDATE {} SET {} = ({}) WHERE {}").format(
            qualified(table), target, expr, condition
        ),
    )


@statements.register
def _(change: ch.DropColumn) -> list[Statement]:
    action = sql.SQL("DROP COLUMN {}").format(sql.Identifier(change.column))
    return [alter_table(change.table, Form.DROP_COLUMN, action)]


@statements.register
def _(change: ch.AlterColumnType) -> list[Statement]:
    action = sql.SQL("ALTER COLUMN {} TYPE {}").format(
        sql.Identifier(change.column), sql.SQL(change.new_type)
    )
    if change.collation:
        action = sql.SQL("{} COLLATE {}").format(action, dotted(change.collation))
    if change.using:
        action = sql.SQL("{} USING {}").format(action, sql.SQL(change.using))
    return [alter_table(change.table, Form.ALTER_TYPE, action)]


@statements.register
def _(change: ch.AlterColumnDefault) -> list[Statement]:
    column = sql.Identifier(change.column)
    if change.new is None:
        action = sql.SQL("ALTER COLUMN {} DROP DEFAULT").format(column)
    else:
        action = sql.SQL("ALTER COLUMN {} SET DEFAULT {}").format(column, sql.SQL(change.new))
    return [alter_table(change.table, Form.SET_DEFAULT, action)]


@statements.register
def _(change: ch.AlterColumnNullability) -> list[Statement]:
    column = sql.Identifier(change.column)
    if change.nullable:
        return [
            alter_table(
                change.table,
                Form.DROP_NOT_NULL,
                sql.SQL("ALTER COLUMN {} DROP NOT NULL").format(column),
            )
        ]
    set_not_null = alter_table(
        change.table, Form.SET_NOT_NULL, sql.SQL("ALTER COLUMN {} SET NOT NULL").format(column)
    )
    if not change.online:
        return [set_not_null]
    # A validated CHECK (col IS NOT NULL) lets SET NOT NULL skip its scan under
    # ACCESS EXCLUSIVE; the scan happens in VALIDATE, which lets writes through.
    check = sql.Identifier(not_null_check_name(change.column))
    drop = sql.SQL("DROP CONSTRAINT IF EXISTS {}").format(check)
    add = sql.SQL("ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID").format(check, column)
    return [
        alter_table(change.table, Form.DROP_CONSTRAINT, drop),
        alter_table(change.table, Form.ADD_CHECK, add),
        alter_table(
            change.table, Form.VALIDATE_CONSTRAINT, sql.SQL("VALIDATE CONSTRAINT {}").format(check)
        ),
        set_not_null,
        alter_table(change.table, Form.DROP_CONSTRAINT, drop),
    ]


def not_null_check_name(column: str) -> str:
    """The temporary CHECK behind an online SET NOT NULL (within NAMEDATALEN)."""
    suffix = "_mms_not_null"
    encoded = column.encode()[: 63 - len(suffix)].decode(errors="ignore")
    return f"{encoded}{suffix}"


@statements.register
def _(change: ch.AlterColumnIdentity) -> list[Statement]:
    column = sql.Identifier(change.column)
    kind = sql.SQL("ALWAYS" if change.new == "always" else "BY DEFAULT")
    if change.new is None:
        action = sql.SQL("ALTER COLUMN {} DROP IDENTITY").format(column)
    elif change.old is None:
        action = sql.SQL("ALTER COLUMN {} ADD GENERATED {} AS IDENTITY").format(column, kind)
    else:
        action = sql.SQL("ALTER COLUMN {} SET GENERATED {}").format(column, kind)
    return [alter_table(change.table, Form.IDENTITY, action)]


@statements.register
def _(change: ch.ReplaceGeneratedColumn) -> list[Statement]:
    drop = sql.SQL("DROP COLUMN {}").format(sql.Identifier(change.column.name))
    add = sql.SQL("ADD COLUMN {}").format(column_definition(change.column))
    return [
        alter_table(change.table, Form.DROP_COLUMN, drop),
        alter_table(change.table, Form.ADD_COLUMN, add),
    ]


@statements.register
def _(change: ch.AddPrimaryKey) -> list[Statement]:
    action = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY ({})").format(
        sql.Identifier(change.key.name),
        sql.SQL(", ").join(map(sql.Identifier, change.key.columns)),
    )
    return [alter_table(change.table, Form.ADD_PRIMARY_KEY, action)]


@statements.register
def _(change: ch.DropPrimaryKey) -> list[Statement]:
    action = sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(change.key.name))
    return [alter_table(change.table, Form.DROP_CONSTRAINT, action)]


@statements.register
def _(change: ch.CreateIndex) -> list[Statement]:
    result = [create_index(change.table, change.index, change.index.name, change.concurrently)]
    if change.index.comment is not None:
        result.append(comment("index", change.table, change.index.name, change.index.comment))
    return result


@statements.register
def _(change: ch.DropIndex) -> list[Statement]:
    return [drop_index_concurrently(change.table.schema, change.index.name)]


@statements.register
def _(change: ch.RenameIndex) -> list[Statement]:
    return [rename_index(change.table.schema, change.old, change.new)]


@statements.register
def _(change: ch.ReplaceIndex) -> list[Statement]:
    temporary = temporary_index_name(change.new.name)
    result = [
        drop_index_concurrently(change.table.schema, temporary),
        create_index(change.table, change.new, temporary, concurrently=True),
        drop_index_concurrently(change.table.schema, change.old.name),
        rename_index(change.table.schema, temporary, change.new.name),
    ]
    if change.new.comment is not None:
        result.append(comment("index", change.table, change.new.name, change.new.comment))
    return result


@statements.register
def _(change: ch.RebuildInvalidIndex) -> list[Statement]:
    return [
        drop_index_concurrently(change.table.schema, change.index.name),
        create_index(change.table, change.index, change.index.name, concurrently=True),
    ]


@statements.register
def _(change: ch.SetComment) -> list[Statement]:
    return [comment(change.target, change.table, change.name, change.comment)]


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
    return sql.SQL("CONSTRAINT {} CHECK ({})").format(
        sql.Identifier(check.name), sql.SQL(check.expression)
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


@statements.register
def _(change: ch.DropConstraint) -> list[Statement]:
    action = sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(change.name))
    return [alter_table(change.table, Form.DROP_CONSTRAINT, action)]


def create_user_type(user_type: UserType) -> list[str]:
    """A copy of a target's enum or domain (for the scratch server only)."""
    name = qualified(user_type.name)
    if user_type.kind == "enum":
        labels = sql.SQL(", ").join(map(sql.Literal, user_type.labels))
        return [render(sql.SQL("CREATE TYPE {} AS ENUM ({})").format(name, labels))]
    parts: list[sql.Composable] = [
        sql.SQL("CREATE DOMAIN {} AS {}").format(name, sql.SQL(user_type.base_type or "text"))
    ]
    if user_type.default is not None:
        parts.append(sql.SQL("DEFAULT ({})").format(sql.SQL(user_type.default)))
    if user_type.not_null:
        parts.append(sql.SQL("NOT NULL"))
    parts.extend(sql.SQL(check) for check in user_type.checks)
    return [render(sql.SQL(" ").join(parts))]
