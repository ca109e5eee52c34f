"""Enum types the file declares: CREATE TYPE, ALTER TYPE ... ADD VALUE / RENAME VALUE, DROP
TYPE."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import Statement, make_statement, qualified, statements
from mmschema.locks import Form


def create_enum(change: ch.CreateEnum) -> Statement:
    labels = sql.SQL(", ").join(map(sql.Literal, change.labels))
    composed = sql.SQL("CREATE TYPE {} AS ENUM ({})").format(qualified(change.name), labels)
    return make_statement(Form.CREATE_ENUM, composed)


@statements.register
def _(change: ch.CreateEnum) -> list[Statement]:
    return [create_enum(change)]


@statements.register
def _(change: ch.AddEnumValue) -> list[Statement]:
    composed = sql.SQL("ALTER TYPE {} ADD VALUE {}").format(
        qualified(change.name), sql.Literal(change.label)
    )
    if change.before is not None:
        composed = sql.SQL("{} BEFORE {}").format(composed, sql.Literal(change.before))
    elif change.after is not None:
        composed = sql.SQL("{} AFTER {}").format(composed, sql.Literal(change.after))
    return [make_statement(Form.ADD_ENUM_VALUE, composed)]


@statements.register
def _(change: ch.RenameEnumValue) -> list[Statement]:
    composed = sql.SQL("ALTER TYPE {} RENAME VALUE {} TO {}").format(
        qualified(change.name), sql.Literal(change.old), sql.Literal(change.new)
    )
    return [make_statement(Form.RENAME_ENUM_VALUE, composed)]


@statements.register
def _(change: ch.RebuildEnum) -> list[Statement]:
    dropped = make_statement(Form.DROP_TYPE, sql.SQL("DROP TYPE {}").format(qualified(change.name)))
    return [dropped, create_enum(ch.CreateEnum(change.name, change.labels))]


@statements.register
def _(change: ch.DropEnum) -> list[Statement]:
    composed = sql.SQL("DROP TYPE {}").format(qualified(change.name))
    return [make_statement(Form.DROP_TYPE, composed)]
