"""Statements, their grouping into transactions, and the helpers every kind of DDL uses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from psycopg import sql

from mmschema import changes as ch
from mmschema.kinds.tables import changes as tc
from mmschema.locks import Form, LockLevel, traits
from mmschema.model import QualifiedName, UserType


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


def make_statement(form: Form, composed: sql.Composable) -> Statement:
    return Statement(form, render(composed))


def comment(target: str, table: QualifiedName, name: str, text: str | None) -> Statement:
    literal = sql.Literal(text) if text is not None else sql.SQL("NULL")
    if target in ("table", "view", "materialized view"):
        obj = sql.SQL("{} {}").format(sql.SQL(target.upper()), qualified(table))
    elif target == "column":
        obj = sql.SQL("COLUMN {}").format(sql.Identifier(table.schema, table.name, name))
    else:
        obj = sql.SQL("INDEX {}").format(sql.Identifier(table.schema, name))
    return make_statement(Form.COMMENT, sql.SQL("COMMENT ON {} IS {}").format(obj, literal))


def name_prefix(text: str, size: int) -> str:
    """The longest start of `text` within `size` bytes (names are limited in bytes)."""
    return text.encode()[:size].decode(errors="ignore")


def alter_table(table: QualifiedName, form: Form, action: sql.Composable) -> Statement:
    return make_statement(form, sql.SQL("ALTER TABLE {} {}").format(qualified(table), action))


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
    return [make_statement(Form.CREATE_SCHEMA, create_schema(change.name))]


@statements.register
def _(change: tc.SetComment) -> list[Statement]:
    return [comment(change.target, change.table, change.name, change.comment)]


def create_user_type(user_type: UserType) -> list[str]:
    """A copy of a target's enum, domain or composite type (for the scratch server only)."""
    name = qualified(user_type.name)
    if user_type.kind == "enum":
        labels = sql.SQL(", ").join(map(sql.Literal, user_type.labels))
        return [render(sql.SQL("CREATE TYPE {} AS ENUM ({})").format(name, labels))]
    if user_type.kind == "composite":  # attributes as the target's catalog prints them
        attributes = sql.SQL(", ").join(sql.SQL(a) for a in user_type.attributes)
        return [render(sql.SQL("CREATE TYPE {} AS ({})").format(name, attributes))]
    parts: list[sql.Composable] = [
        sql.SQL("CREATE DOMAIN {} AS {}").format(name, sql.SQL(user_type.base_type or "text"))
    ]
    if user_type.default is not None:
        parts.append(sql.SQL("DEFAULT ({})").format(sql.SQL(user_type.default)))
    if user_type.not_null:
        parts.append(sql.SQL("NOT NULL"))
    parts.extend(sql.SQL(check) for check in user_type.checks)
    return [render(sql.SQL(" ").join(parts))]
