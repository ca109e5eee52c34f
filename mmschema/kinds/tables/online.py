"""DDL of online work: a backfill job as one recorded UPDATE, resumed backfills, and the
steps of an online type change (expand with a sync trigger, backfill, swap, abandon)."""

from __future__ import annotations

from psycopg import sql

from mmschema.backfill import BackfillJob, BackfillPart, assignments, differs
from mmschema.ddl.base import (
    Statement,
    alter_table,
    comment,
    make_statement,
    qualified,
    statements,
)
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.columns import backfill
from mmschema.kinds.tables.constraints import deferrable_clause
from mmschema.kinds.tables.identity import sequence_options
from mmschema.kinds.tables.indexes import rename_index
from mmschema.locks import Form
from mmschema.model import QualifiedName


def job_statement(job: BackfillJob) -> Statement:
    """The whole job as one UPDATE, for the plan and the record (it runs in batches)."""
    if len(job.parts) == 1:
        part = job.parts[0]
        return backfill(job.table, part.column, part.value, part.where)
    return make_statement(
        Form.BACKFILL,
        sql.SQL("UPDATE {} SET {} WHERE {}").format(
            sql.Identifier(job.table.schema, job.table.name), assignments(job), differs(job)
        ),
    )


@statements.register
def _(change: cc.ResumeBackfill) -> list[Statement]:
    return [job_statement(change.job)]


def _trigger_function(change: cc.RetypeExpand, using: bool) -> sql.Composable:
    """The sync function: the shadow column takes the new value of every row written.

    With a USING expression, it is evaluated over the row's own columns (a one-row
    subquery over NEW), so the file's expression needs no rewriting.
    """
    target = sql.SQL("NEW.{}").format(sql.Identifier(change.shadow))
    if using:
        value = sql.SQL("(SELECT {} FROM (SELECT NEW.*) AS {})").format(
            sql.SQL(change.value), sql.Identifier(change.table.name)
        )
    else:
        value = sql.SQL("NEW.{}").format(sql.Identifier(change.column))
    body = sql.SQL("BEGIN {} := {}; RETURN NEW; END").format(target, value)
    return sql.SQL("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {}").format(
        sql.Identifier(change.table.schema, change.trigger),
        sql.Literal(body.as_string(None)),
    )


def _unless_in_sync(change: cc.RetypeExpand) -> sql.Composable:
    """The trigger's WHEN: rows whose shadow already holds the cast value (the backfill's
    own updates, writers' updates of other columns of filled rows) skip the function call,
    which is most of a trigger's cost. A USING expression (a subquery over NEW) has none:
    WHEN allows no subqueries."""
    return sql.SQL(" WHEN (NEW.{} IS DISTINCT FROM NEW.{}::{})").format(
        sql.Identifier(change.shadow), sql.Identifier(change.column), sql.SQL(change.new_type)
    )


def plain_cast(column: str, new_type: str) -> str:
    """The value a shadow column takes without a USING expression: the column, cast."""
    return sql.SQL("{}::{}").format(sql.Identifier(column), sql.SQL(new_type)).as_string(None)


@statements.register
def _(change: cc.RetypeExpand) -> list[Statement]:
    result: list[Statement] = []
    table = qualified(change.table)
    if change.add_column:
        action = sql.SQL("ADD COLUMN {} {}").format(
            sql.Identifier(change.shadow), sql.SQL(change.new_type)
        )
        result.append(alter_table(change.table, Form.ADD_COLUMN, action))
    if change.add_trigger:
        using = change.value != plain_cast(change.column, change.new_type)
        result.append(make_statement(Form.CREATE_FUNCTION, _trigger_function(change, using)))
        result.append(
            make_statement(
                Form.CREATE_TRIGGER,
                sql.SQL(
                    # every UPDATE, not only of the column: a row updated before the
                    # backfill reached it must not keep a NULL shadow (the NOT NULL check)
                    "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {}"
                    " FOR EACH ROW{} EXECUTE FUNCTION {}()"
                ).format(
                    sql.Identifier(change.trigger),
                    table,
                    sql.SQL("") if using else _unless_in_sync(change),
                    sql.Identifier(change.table.schema, change.trigger),
                ),
            )
        )
    if change.check is not None:
        action = sql.SQL("ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID").format(
            sql.Identifier(change.check), sql.Identifier(change.shadow)
        )
        result.append(alter_table(change.table, Form.ADD_CHECK, action))
    for name, expression in change.checks:
        action = sql.SQL("ADD CONSTRAINT {} CHECK ({}) NOT VALID").format(
            sql.Identifier(name), sql.SQL(expression)
        )
        result.append(alter_table(change.table, Form.ADD_CHECK, action))
    return result


def shadow_job(change: cc.RetypeBackfill) -> BackfillJob:
    """One job for all the table's shadow columns: each batch sets them together."""
    return BackfillJob(
        change.table, tuple(BackfillPart(shadow, value) for _, shadow, value in change.parts)
    )


@statements.register
def _(change: cc.RetypeBackfill) -> list[Statement]:
    return [job_statement(shadow_job(change))]


def drop_sync(table: QualifiedName, trigger: str) -> list[Statement]:
    """DROP the trigger that keeps a shadow column or a copy in sync, then its function."""
    return [
        make_statement(
            Form.DROP_TRIGGER,
            sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                sql.Identifier(trigger), qualified(table)
            ),
        ),
        make_statement(
            Form.DROP_FUNCTION,
            sql.SQL("DROP FUNCTION IF EXISTS {}()").format(sql.Identifier(table.schema, trigger)),
        ),
    ]


INTEGER_TYPES = {"smallint", "integer", "bigint"}


@statements.register
def _(change: cc.RetypeSwap) -> list[Statement]:
    table, shadow, column = (
        change.table,
        sql.Identifier(change.shadow),
        sql.Identifier(change.column),
    )
    locked = sql.SQL(", ").join(qualified(t) for t in (*change.locked, table))
    result = [
        make_statement(
            Form.LOCK_TABLE, sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(locked)
        )
    ]
    result.extend(
        alter_table(
            owner, Form.DROP_CONSTRAINT, sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(name))
        )
        for owner, name in change.drop_foreign_keys
    )
    if change.not_null_check is not None:
        result.append(
            alter_table(
                table, Form.SET_NOT_NULL, sql.SQL("ALTER COLUMN {} SET NOT NULL").format(shadow)
            )
        )
        result.append(
            alter_table(
                table,
                Form.DROP_CONSTRAINT,
                sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(change.not_null_check)),
            )
        )
    for sequence in change.sequences:
        seq = sql.SQL(sequence)  # as regclass printed it: quoted where needed
        owned = sql.SQL("ALTER SEQUENCE {} OWNED BY {}").format(
            seq, sql.Identifier(table.schema, table.name, change.shadow)
        )
        result.append(make_statement(Form.ALTER_SEQUENCE, owned))
        if change.new_type in INTEGER_TYPES:
            widened = sql.SQL("ALTER SEQUENCE {} AS {}").format(seq, sql.SQL(change.new_type))
            result.append(make_statement(Form.ALTER_SEQUENCE, widened))
    if change.identity is not None:
        result.append(_move_identity(change))
    result.extend(drop_sync(table, change.trigger)[:1])
    for policy in change.policies:
        result.extend(statements(cc.DropPolicy(table, policy)))
    for view in reversed(change.views):
        result.extend(statements(cc.DropView(table, view)))
    result.append(alter_table(table, Form.DROP_COLUMN, sql.SQL("DROP COLUMN {}").format(column)))
    result.append(
        alter_table(
            table, Form.RENAME_COLUMN, sql.SQL("RENAME COLUMN {} TO {}").format(shadow, column)
        )
    )
    if change.default is not None:
        result.append(
            alter_table(
                table,
                Form.SET_DEFAULT,
                sql.SQL("ALTER COLUMN {} SET DEFAULT {}").format(column, sql.SQL(change.default)),
            )
        )
    if change.primary_key is not None:
        name, index = change.primary_key
        attach = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
            sql.Identifier(name), sql.Identifier(index)
        )
        result.append(alter_table(table, Form.ADD_PRIMARY_KEY_USING_INDEX, attach))
    for constraint, index in change.unique:
        attach = sql.SQL("ADD CONSTRAINT {} UNIQUE USING INDEX {}{}").format(
            sql.Identifier(constraint.name),
            sql.Identifier(index),
            deferrable_clause(constraint.deferrable, constraint.initially_deferred),
        )
        result.append(alter_table(table, Form.ADD_UNIQUE_USING_INDEX, attach))
    result.extend(rename_index(table.schema, index, name) for name, index in change.indexes)
    for name, shadow_check in change.checks:
        rename = sql.SQL("RENAME CONSTRAINT {} TO {}").format(
            sql.Identifier(shadow_check), sql.Identifier(name)
        )
        result.append(alter_table(table, Form.RENAME_CONSTRAINT, rename))
    for view in change.views:
        result.extend(statements(cc.CreateView(table, view)))
    for policy in change.policies:
        result.extend(statements(cc.CreatePolicy(table, policy)))
    if change.comment is not None:
        result.append(comment("column", table, change.column, change.comment))
    for owner, key in change.add_foreign_keys:
        result.extend(statements(tc.AddForeignKey(owner, key, not_valid=True)))
    result.extend(drop_sync(table, change.trigger)[1:])
    return result


def _move_identity(change: cc.RetypeSwap) -> Statement:
    """The identity goes from the old column to the shadow: its sequence is dropped with it,
    the shadow's (with the same options, under the same name) goes on from its next value."""
    table = qualified(change.table)
    kind = "ALWAYS" if change.identity == "always" else "BY DEFAULT"
    options = change.identity_options
    extra = sql.SQL(" ({})").format(sequence_options(options)) if options else sql.SQL("")
    add = sql.SQL("ALTER TABLE {} ALTER COLUMN {} ADD GENERATED {} AS IDENTITY{}").format(
        table, sql.Identifier(change.shadow), sql.SQL(kind), extra
    )
    body = sql.SQL(
        "DECLARE old regclass := pg_get_serial_sequence({table_text}, {column_text})::regclass;"
        " next bigint := nextval(old);"
        " name text := (SELECT relname FROM pg_class WHERE oid = old);"
        " BEGIN"
        " ALTER TABLE {table} ALTER COLUMN {column} DROP IDENTITY;"
        " EXECUTE {add};"
        " PERFORM setval(pg_get_serial_sequence({table_text}, {shadow_text}), next, false);"
        " EXECUTE format('ALTER SEQUENCE %s RENAME TO %I',"
        " pg_get_serial_sequence({table_text}, {shadow_text}), name);"
        " END"
    ).format(
        table_text=sql.Literal(table.as_string(None)),
        column_text=sql.Literal(change.column),
        shadow_text=sql.Literal(change.shadow),
        table=table,
        column=sql.Identifier(change.column),
        add=sql.Literal(add.as_string(None)),
    )
    return make_statement(Form.IDENTITY, sql.SQL("DO {}").format(sql.Literal(body.as_string(None))))


@statements.register
def _(change: cc.RetypeAbandon) -> list[Statement]:
    table = change.table
    result = drop_sync(table, change.trigger) if change.trigger else []
    drop = sql.SQL("DROP COLUMN IF EXISTS {}").format(sql.Identifier(change.shadow))
    return [*result, alter_table(table, Form.DROP_COLUMN, drop)]
