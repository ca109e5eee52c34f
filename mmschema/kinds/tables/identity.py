"""Identity columns and serial sequences: their options, their DDL, and the sequences a
column that becomes serial needs."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import (
    Statement,
    alter_table,
    make_statement,
    qualified,
    statements,
)
from mmschema.desired.declared import DeclaredColumn
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import (
    SERIAL_TYPES,
    Column,
)
from mmschema.locks import Form
from mmschema.model import QualifiedName
from mmschema.nextval import referenced_sequences

SEQUENCE_CLAUSES = {
    "start": "START WITH",
    "increment": "INCREMENT BY",
    "min": "MINVALUE",
    "max": "MAXVALUE",
    "cache": "CACHE",
}


def sequence_options(options: tuple[tuple[str, str], ...], prefix: str = "") -> sql.Composable:
    """START WITH 3 INCREMENT BY 4 ... CYCLE: integers, from the file or the catalog."""
    parts = []
    for key, value in options:
        if key == "cycle":
            parts.append(prefix + ("CYCLE" if value == "true" else "NO CYCLE"))
        elif not value:  # min or max at the type's default
            parts.append(f"{prefix}NO {SEQUENCE_CLAUSES[key]}")
        else:
            parts.append(f"{prefix}{SEQUENCE_CLAUSES[key]} {int(value)}")
    return sql.SQL(" ".join(parts))


@statements.register
def _(change: cc.CreateOwnedSequence) -> list[Statement]:
    create = sql.SQL("CREATE SEQUENCE IF NOT EXISTS {} AS {} OWNED BY {}").format(
        sql.SQL(change.sequence),
        sql.SQL(change.type),
        sql.Identifier(change.table.schema, change.table.name, change.column),
    )
    start = sql.SQL("SELECT setval({}, coalesce(max({}), 0) + 1, false) FROM {}").format(
        sql.Literal(change.sequence), sql.Identifier(change.column), qualified(change.table)
    )
    return [make_statement(Form.CREATE_SEQUENCE, create), make_statement(Form.SET_SEQUENCE, start)]


@statements.register
def _(change: cc.AlterSequenceType) -> list[Statement]:
    alter = sql.SQL("ALTER SEQUENCE {} AS {}").format(
        sql.SQL(change.sequence), sql.SQL(change.type)
    )
    return [make_statement(Form.ALTER_SEQUENCE, alter)]


@statements.register
def _(change: cc.AlterColumnIdentity) -> list[Statement]:
    column = sql.Identifier(change.column)
    kind = sql.SQL("ALWAYS" if change.new == "always" else "BY DEFAULT")
    if change.new is None:
        action = sql.SQL("ALTER COLUMN {} DROP IDENTITY").format(column)
    elif change.old is None:
        action = sql.SQL("ALTER COLUMN {} ADD GENERATED {} AS IDENTITY").format(column, kind)
        if change.options:
            action = sql.SQL("{} ({})").format(action, sequence_options(change.options))
    else:
        action = sql.SQL("ALTER COLUMN {} SET GENERATED {}").format(column, kind)
        if change.set_options:
            options = sequence_options(all_identity_options(change.options), "SET ")
            action = sql.SQL("{} {}").format(action, options)
            if change.restart is not None:
                action = sql.SQL("{} RESTART WITH {}").format(
                    action, sql.Literal(int(change.restart))
                )
    return [alter_table(change.table, Form.IDENTITY, action)]


def all_identity_options(options: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Every option, the unnamed ones at their defaults, so that earlier values go."""
    given = dict(options)
    ascending = int(given.get("increment", "1")) > 0
    start = given.get("start") or given.get("min" if ascending else "max")
    result = [
        ("cache", given.get("cache", "1")),
        ("cycle", given.get("cycle", "false")),
        ("increment", given.get("increment", "1")),
        ("max", given.get("max", "")),
        ("min", given.get("min", "")),
        ("start", start or ("1" if ascending else "-1")),
    ]
    return tuple(result)


def owned_sequences(
    table: QualifiedName, want: Column, declared: DeclaredColumn
) -> list[ch.Change]:
    """An existing column that becomes serial needs its sequence before the default."""
    base = SERIAL_TYPES.get(declared.type.strip().lower())
    if base is None or want.default is None:
        return []
    return [
        cc.CreateOwnedSequence(table, want.name, sequence, base)
        for sequence in referenced_sequences(want.default)
    ]
