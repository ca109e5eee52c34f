"""Columns: how a declared one compares with the live one, and their DDL (add, drop,
rename, type, default, NOT NULL, identity)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from psycopg import sql

from mmschema.ddl.base import (
    Statement,
    alter_table,
    comment,
    dotted,
    make_statement,
    name_prefix,
    qualified,
    statements,
)
from mmschema.desired.declared import DeclaredColumn, DeclaredTable
from mmschema.equivalent import same_default
from mmschema.hazards import Hazard, cascade_note, hazards
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.identity import owned_sequences, sequence_options
from mmschema.kinds.tables.model import (
    SERIAL_TYPES,
    Column,
    Table,
    column_from,
)
from mmschema.locks import Form
from mmschema.model import QualifiedName
from mmschema.nextval import referenced_sequences

if TYPE_CHECKING:
    from mmschema.kinds.tables.tables import TableDiff


def column_definition(column: Column) -> sql.Composable:
    parts: list[sql.Composable] = [sql.Identifier(column.name), sql.SQL(column.type)]
    if column.collation:
        parts.append(sql.SQL("COLLATE {}").format(dotted(column.collation)))
    if column.generated:
        parts.append(sql.SQL("GENERATED ALWAYS AS ({}) STORED").format(sql.SQL(column.generated)))
    if column.identity:
        kind = "ALWAYS" if column.identity == "always" else "BY DEFAULT"
        parts.append(sql.SQL(f"GENERATED {kind} AS IDENTITY"))
        if column.identity_options:
            parts.append(sql.SQL("({})").format(sequence_options(column.identity_options)))
    if column.default is not None and not column.generated and not column.identity:
        parts.append(sql.SQL("DEFAULT ({})").format(sql.SQL(column.default)))
    if not column.nullable:
        parts.append(sql.SQL("NOT NULL"))
    return sql.SQL(" ").join(parts)


@statements.register
def _(change: cc.RenameColumn) -> list[Statement]:
    action = sql.SQL("RENAME COLUMN {} TO {}").format(
        sql.Identifier(change.old), sql.Identifier(change.new)
    )
    return [alter_table(change.table, Form.RENAME_COLUMN, action)]


@statements.register
def _(change: cc.AddColumn) -> list[Statement]:
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
    return make_statement(
        Form.BACKFILL,
        sql.SQL("UPDATE {} SET {} = ({}) WHERE {}").format(
            qualified(table), target, expr, condition
        ),
    )


@statements.register
def _(change: cc.DropColumn) -> list[Statement]:
    action = sql.SQL("DROP COLUMN {}{}").format(
        sql.Identifier(change.column), sql.SQL(" CASCADE" if change.cascade else "")
    )
    return [alter_table(change.table, Form.DROP_COLUMN, action)]


@statements.register
def _(change: cc.AlterColumnType) -> list[Statement]:
    action = sql.SQL("ALTER COLUMN {} TYPE {}").format(
        sql.Identifier(change.column), sql.SQL(change.new_type)
    )
    if change.collation:
        action = sql.SQL("{} COLLATE {}").format(action, dotted(change.collation))
    if change.using:
        action = sql.SQL("{} USING {}").format(action, sql.SQL(change.using))
    alter = alter_table(change.table, Form.ALTER_TYPE, action)
    if change.old_default is None:
        return [alter]
    column = sql.Identifier(change.column)
    drop = sql.SQL("ALTER COLUMN {} DROP DEFAULT").format(column)
    result = [alter_table(change.table, Form.SET_DEFAULT, drop), alter]
    if change.new_default is not None:
        set_new = sql.SQL("ALTER COLUMN {} SET DEFAULT {}").format(
            column, sql.SQL(change.new_default)
        )
        result.append(alter_table(change.table, Form.SET_DEFAULT, set_new))
    return result


@statements.register
def _(change: cc.AlterColumnDefault) -> list[Statement]:
    column = sql.Identifier(change.column)
    if change.new is None:
        action = sql.SQL("ALTER COLUMN {} DROP DEFAULT").format(column)
    else:
        action = sql.SQL("ALTER COLUMN {} SET DEFAULT {}").format(column, sql.SQL(change.new))
    result = [alter_table(change.table, Form.SET_DEFAULT, action)]
    if change.drop_sequence is not None:
        drop = sql.SQL("DROP SEQUENCE IF EXISTS {}").format(sql.SQL(change.drop_sequence))
        result.append(make_statement(Form.DROP_SEQUENCE, drop))
    return result


@statements.register
def _(change: cc.AlterColumnNullability) -> list[Statement]:
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
    return f"{name_prefix(column, 63 - len(suffix))}{suffix}"


@statements.register
def _(change: cc.RetypeUnderGenerated) -> list[Statement]:
    drops = [
        alter_table(
            change.table, Form.DROP_COLUMN, sql.SQL("DROP COLUMN {}").format(sql.Identifier(c.name))
        )
        for c in change.generated
    ]
    adds = [
        alter_table(
            change.table, Form.ADD_COLUMN, sql.SQL("ADD COLUMN {}").format(column_definition(c))
        )
        for c in change.generated
    ]
    retypes = [s for retype in change.retypes for s in statements(retype)]
    return [*drops, *retypes, *adds]


@statements.register
def _(change: cc.ReplaceGeneratedColumn) -> list[Statement]:
    drop = sql.SQL("DROP COLUMN {}").format(sql.Identifier(change.column.name))
    add = sql.SQL("ADD COLUMN {}").format(column_definition(change.column))
    return [
        alter_table(change.table, Form.DROP_COLUMN, drop),
        alter_table(change.table, Form.ADD_COLUMN, add),
    ]


def diff_columns(
    have: Table,
    want: Table,
    table: DeclaredTable,
    result: TableDiff,
    pinned: frozenset[str] = frozenset(),
) -> set[str]:
    """Column changes; returns the live column names the file accounts for."""
    name = want.name
    claimed: set[str] = set()
    live = {c.name: c for c in have.columns}
    wanted = {c.name: c for c in want.columns}
    for declared in table.columns:
        if declared.state == "absent":
            claimed.add(declared.name)
            if declared.name in live:
                cascade = have.dependents_of(declared.name)
                result.changes.append(cc.DropColumn(name, declared.name, cascade))
            continue
        target = wanted[declared.name]
        current = live.get(declared.name)
        old = live.get(declared.renamed_from or "")
        if current is None and declared.renamed_from and old is not None:
            claimed.add(declared.renamed_from)
            result.changes.append(cc.RenameColumn(name, declared.renamed_from, declared.name))
            current = replace(old, name=declared.name)
        claimed.add(declared.name)
        if current is None:
            column = replace(column_from(declared), nullable=target.nullable)
            result.changes.append(
                cc.AddColumn(name, column, declared.backfill, declared.backfill_where)
            )
            continue
        diff_column(name, current, target, declared, result, pinned)
    return claimed


def diff_column(
    table: QualifiedName,
    have: Column,
    want: Column,
    declared: DeclaredColumn,
    result: TableDiff,
    pinned: frozenset[str] = frozenset(),
) -> None:
    """One column's changes; pinned columns stay NOT NULL (an unmanaged primary key's)."""
    out = result.changes
    if have.generated != want.generated:
        out.append(cc.ReplaceGeneratedColumn(table, replace(column_from(declared), name=want.name)))
        return
    default = have.default  # the default once the changes below have run
    if have.type != want.type or have.collation != want.collation:
        carried = have.default is not None and have.identity is None
        out.append(
            cc.AlterColumnType(
                table,
                want.name,
                have.type,
                want.type,
                want.collation,
                declared.using,
                old_default=have.default if carried else None,
                new_default=want.default if carried and want.identity is None else None,
            )
        )
        if carried:
            default = want.default if want.identity is None else None
        base = SERIAL_TYPES.get(declared.type.strip().lower())
        if base is not None and want.default is not None and want.default == have.default:
            out.extend(
                cc.AlterSequenceType(table, want.name, sequence, base)
                for sequence in referenced_sequences(want.default)
            )
    nullability = cc.AlterColumnNullability(table, want.name, want.nullable)
    if have.nullable and not want.nullable:
        out.append(nullability)  # before ADD IDENTITY, which needs NOT NULL
    new_options = (
        have.identity is not None
        and want.identity is not None
        and have.identity_options != want.identity_options
    )
    if have.identity != want.identity or new_options:
        if have.identity is None and default is not None:
            out.append(cc.AlterColumnDefault(table, want.name, default, None))
        out.append(
            cc.AlterColumnIdentity(
                table,
                want.name,
                have.identity,
                want.identity,
                want.identity_options,
                set_options=new_options,
            )
        )
        default = None
    if want.identity is None and not same_default(default, want.default, want.type):
        out.extend(owned_sequences(table, want, declared))
        out.append(cc.AlterColumnDefault(table, want.name, default, want.default))
    if want.nullable and not have.nullable and want.name not in pinned:
        out.append(nullability)
    if have.comment != want.comment:
        out.append(tc.SetComment("column", table, want.name, want.comment))


@hazards.register
def _(change: cc.DropColumn) -> list[Hazard]:
    detail = f"drops column {change.column} and its data{cascade_note(change.cascade)}"
    return [Hazard("destructive", detail)]


@hazards.register
def _(change: cc.AlterColumnType) -> list[Hazard]:
    what = f"{change.column} from {change.old_type} to {change.new_type}"
    if change.old_type == change.new_type and change.using is None:
        detail = (
            f"changing the collation of {change.column} rebuilds its indexes "
            "under an ACCESS EXCLUSIVE lock"
        )
        return [Hazard("blocking", detail)]
    if change.cast == "binary-coercible" and change.using is None:
        return []
    refused = f" (not online: {change.online_refused})" if change.online_refused else ""
    rewrite = Hazard(
        "rewrite",
        f"changing {what} rewrites the table and its indexes under an ACCESS EXCLUSIVE "
        f"lock{refused}",
    )
    if change.cast == "lossy":
        loss = f"changing {what} can round, truncate or reject existing values"
        return [rewrite, Hazard("destructive", loss)]
    if change.cast == "no implicit cast":
        detail = f"{rewrite.detail}; no implicit cast, converted USING {change.using}"
        return [Hazard("rewrite", detail)]
    return [rewrite]


@hazards.register
def _(change: cc.RetypeUnderGenerated) -> list[Hazard]:
    names = ", ".join(c.name for c in change.generated)
    found = [h for retype in change.retypes for h in hazards(retype)]
    return [*found, Hazard("rewrite", f"generated columns {names} are dropped and added again")]


@hazards.register
def _(change: cc.AddColumn) -> list[Hazard]:
    if not change.rewrites:
        return []
    column = change.column
    why = (
        change.domain_reason
        if change.domain_reason
        else "a STORED generated column"
        if column.generated
        else "an identity column's values come from its sequence"
        if column.identity
        else f"its default {column.default} is volatile"
        if column.default
        else f"a {column.type} column's sequence default is volatile"
    )
    detail = (
        f"adding {column.name} rewrites {change.table} under an ACCESS EXCLUSIVE lock: {why}, "
        "computed for every existing row"
    )
    return [Hazard("rewrite", detail)]


@hazards.register
def _(change: cc.ReplaceGeneratedColumn) -> list[Hazard]:
    detail = f"generated column {change.column.name} is dropped and added again (table rewrite)"
    return [Hazard("rewrite", detail)]
