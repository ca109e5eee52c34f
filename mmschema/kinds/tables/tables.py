"""Tables: CREATE, DROP, replace, rename and table options."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import Statement, alter_table, comment, make_statement, qualified, statements
from mmschema.kinds.tables.columns import column_definition
from mmschema.kinds.tables.model import Table
from mmschema.locks import Form
from mmschema.model import QualifiedName


def create_table(table: Table) -> list[Statement]:
    """CREATE TABLE, of a partition (PARTITION OF) or partitioned (PARTITION BY) too."""
    elements: list[sql.Composable] = []
    if table.partition_of is None:
        elements.extend(column_definition(c) for c in table.columns)
    if table.primary_key:
        elements.append(
            sql.SQL("CONSTRAINT {} PRIMARY KEY ({})").format(
                sql.Identifier(table.primary_key.name),
                sql.SQL(", ").join(map(sql.Identifier, table.primary_key.columns)),
            )
        )
    body = sql.SQL("({})").format(sql.SQL(", ").join(elements))
    if table.partition_of is not None:
        parts = [sql.SQL("PARTITION OF"), qualified(table.partition_of)]
        if elements:
            parts.append(body)
        parts.append(sql.SQL(table.partition_bound or "DEFAULT"))
        body = sql.SQL(" ").join(parts)
    if table.partition_by is not None:
        body = sql.SQL("{} PARTITION BY {}").format(body, sql.SQL(table.partition_by))
    unlogged = sql.SQL("UNLOGGED ") if table.unlogged else sql.SQL("")
    create = sql.SQL("CREATE {}TABLE {} {}").format(unlogged, qualified(table.name), body)
    result = [make_statement(Form.CREATE_TABLE, create)]
    if table.comment is not None:
        result.append(comment("table", table.name, table.name.name, table.comment))
    result.extend(
        comment("column", table.name, c.name, c.comment)
        for c in table.columns
        if c.comment is not None and table.partition_of is None
    )
    return result


@statements.register
def _(change: ch.CreateTable) -> list[Statement]:
    return create_table(change.table)


@statements.register
def _(change: ch.DropTable) -> list[Statement]:
    return [drop_table(change.table, cascade=bool(change.cascade))]


def drop_table(name: QualifiedName, cascade: bool = False) -> Statement:
    drop = sql.SQL("DROP TABLE {}{}").format(
        qualified(name), sql.SQL(" CASCADE" if cascade else "")
    )
    return make_statement(Form.DROP_TABLE, drop)


@statements.register
def _(change: ch.ReplaceTable) -> list[Statement]:
    return [drop_table(change.table.name), *create_table(change.table)]


@statements.register
def _(change: ch.RenameTable) -> list[Statement]:
    action = sql.SQL("RENAME TO {}").format(sql.Identifier(change.new.name))
    result = [alter_table(change.old, Form.RENAME_TABLE, action)]
    for kind, old, new in change.derived:
        if kind == "constraint":
            rename = sql.SQL("RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(old), sql.Identifier(new)
            )
            result.append(alter_table(change.new, Form.RENAME_CONSTRAINT, rename))
        else:
            sequence = sql.SQL("ALTER SEQUENCE {} RENAME TO {}").format(
                sql.Identifier(change.new.schema, old), sql.Identifier(new)
            )
            result.append(make_statement(Form.ALTER_SEQUENCE, sequence))
    return result


ROW_SECURITY = {
    "off": ("DISABLE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"),
    "on": ("ENABLE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"),
    "forced": ("ENABLE ROW LEVEL SECURITY", "FORCE ROW LEVEL SECURITY"),
}


@statements.register
def _(change: ch.SetTableOption) -> list[Statement]:
    table, value = change.table, change.value
    if change.option == "unlogged":
        action = "SET UNLOGGED" if value == "true" else "SET LOGGED"
        return [alter_table(table, Form.SET_LOGGED, sql.SQL(action))]
    if change.option == "row_security":
        return [alter_table(table, Form.ROW_SECURITY, sql.SQL(a)) for a in ROW_SECURITY[value]]
    identity: sql.Composable
    if value.startswith("index:"):
        identity = sql.SQL("REPLICA IDENTITY USING INDEX {}").format(
            sql.Identifier(value.removeprefix("index:"))
        )
    else:
        identity = sql.SQL(f"REPLICA IDENTITY {value.upper()}")
    return [alter_table(table, Form.REPLICA_IDENTITY, identity)]
