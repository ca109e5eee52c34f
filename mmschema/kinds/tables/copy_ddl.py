"""DDL of an online type change by copy and swap: the copy and its mirroring trigger, the
batched copy of the rows (as one statement for the plan), the swap, and the abandon."""

from __future__ import annotations

from psycopg import sql

from mmschema.ddl.base import Statement, alter_table, make_statement, qualified, statements
from mmschema.kinds.grants import Target, grant_statements, revoke_statements
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables import copy_changes as xc
from mmschema.kinds.tables.constraints import deferrable_clause
from mmschema.kinds.tables.indexes import rename_index
from mmschema.kinds.tables.online import drop_sync
from mmschema.kinds.tables.tables import ROW_SECURITY
from mmschema.locks import Form
from mmschema.model import QualifiedName
from mmschema.online_names import truncate_trigger

LIKE_OPTIONS = (
    "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS INCLUDING STORAGE"
    " INCLUDING COMPRESSION INCLUDING STATISTICS"
)


def copy_of(table: QualifiedName, copy: str) -> QualifiedName:
    return QualifiedName(table.schema, copy)


def column_list(columns: tuple[tuple[str, str], ...]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns)


def values_from(columns: tuple[tuple[str, str], ...]) -> sql.Composable:
    """Each column's new value from a row of the table (a cast or the USING expression)."""
    return sql.SQL(", ").join(sql.SQL(value) for _, value in columns)


def _key_match(key: tuple[str, ...], row: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{} = {}.{}").format(sql.Identifier(k), sql.SQL(row), sql.Identifier(k))
        for k in key
    )


def copy_gate(table: QualifiedName, copy: str, mode: str) -> sql.Composable:
    """The advisory lock a batch takes alone (mode "") and a write of a row the batches copy
    shares ("_shared"): a batch starts once the writes under way to those rows commit (its
    snapshot sees them), and such a write waits for the batch under way to commit (then it
    finds the row the batch copied). Row locks would do it too, at the price of a WAL record
    per row copied, and an upsert for every row of the batch."""
    name = qualified(copy_of(table, copy)).as_string(None)
    return sql.SQL("pg_advisory_xact_lock{}(hashtext('mmschema copy'), hashtext({}))").format(
        sql.SQL(mode), sql.Literal(name)
    )


def _keys(change: xc.CopyExpand, row: str) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("{}.{}").format(sql.SQL(row), sql.Identifier(k)) for k in change.key
    )


def _copied_side(change: xc.CopyExpand, row: str) -> sql.Composable:
    """Whether the row version is among those the batches copy (key <= the last key at the
    start, the trigger's arguments; none: the table was empty)."""
    bound = sql.SQL(", ").join(
        sql.SQL("TG_ARGV[{}]::{}").format(sql.Literal(i), sql.SQL(t))
        for i, t in enumerate(change.key_types)
    )
    return sql.SQL("TG_NARGS > 0 AND ROW({}) <= ROW({})").format(_keys(change, row), bound)


def _trigger_function(change: xc.CopyExpand) -> sql.Composable:
    """Every row written goes to the copy as well. Rows newer than the start are upserted
    by key; the others, which the batches copy, are updated or deleted there by key under
    the shared gate (a row not copied yet is copied later, as it is then). A TRUNCATE
    empties the copy too (the batches then find nothing left to copy). SECURITY DEFINER:
    the writers need no privileges on the copy."""
    copy = qualified(copy_of(change.table, change.copy))
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in change.key)
    names = column_list(change.columns)
    from_new = sql.SQL("SELECT {} FROM (SELECT NEW.*) AS {}").format(
        values_from(change.columns), sql.Identifier(change.table.name)
    )
    others = [name for name, _ in change.columns if name not in change.key]
    on_conflict = (
        sql.SQL("DO UPDATE SET {}").format(
            sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in others
            )
        )
        if others
        else sql.SQL("DO NOTHING")
    )
    body = sql.SQL(
        "DECLARE old_copied boolean := false; new_copied boolean := false; BEGIN"
        " IF TG_OP = 'TRUNCATE' THEN TRUNCATE {copy}; RETURN NULL; END IF;"
        " IF TG_OP <> 'INSERT' THEN old_copied := {old_side}; END IF;"
        " IF TG_OP <> 'DELETE' THEN new_copied := {new_side}; END IF;"
        " IF old_copied OR new_copied THEN PERFORM {gate}; END IF;"
        " IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ROW({old}) IS DISTINCT FROM ROW({new}))"
        " THEN DELETE FROM {copy} WHERE {match}; END IF;"
        " IF TG_OP = 'UPDATE' AND ROW({old}) IS NOT DISTINCT FROM ROW({new}) AND new_copied"
        " THEN UPDATE {copy} SET ({columns}) = ({from_new}) WHERE {new_match};"
        " ELSIF TG_OP <> 'DELETE' THEN"
        " INSERT INTO {copy} ({columns}) {from_new} ON CONFLICT ({keys}) {on_conflict};"
        " END IF; RETURN NULL; END"
    ).format(
        old_side=_copied_side(change, "OLD"),
        new_side=_copied_side(change, "NEW"),
        gate=copy_gate(change.table, change.copy, "_shared"),
        old=_keys(change, "OLD"),
        new=_keys(change, "NEW"),
        copy=copy,
        match=_key_match(change.key, "OLD"),
        new_match=_key_match(change.key, "NEW"),
        columns=names,
        from_new=from_new,
        keys=keys,
        on_conflict=on_conflict,
    )
    return sql.SQL(
        "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
        " SET search_path = pg_catalog, {}, pg_temp AS {}"
    ).format(
        sql.Identifier(change.table.schema, change.trigger),
        sql.Identifier(change.table.schema),
        sql.Literal(body.as_string(None)),
    )


def _trigger_at_the_last_key(change: xc.CopyExpand) -> sql.Composable:
    """Under the table's SHARE ROW EXCLUSIVE lock (no write under way): the last key there
    is goes to the trigger (its arguments) and to the copy's comment, where the batches read
    where to stop."""
    copy = qualified(copy_of(change.table, change.copy)).as_string(None)
    texts = sql.SQL(", ").join(sql.SQL("t.{}::text").format(sql.Identifier(k)) for k in change.key)
    desc = sql.SQL(", ").join(sql.SQL("t.{} DESC").format(sql.Identifier(k)) for k in change.key)
    create = sql.SQL(
        "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {} FOR EACH ROW"
        " EXECUTE FUNCTION {}(%s)"
    ).format(
        sql.Identifier(change.trigger),
        qualified(change.table),
        sql.Identifier(change.table.schema, change.trigger),
    )
    body = sql.SQL(
        "DECLARE last text[]; BEGIN"
        " SELECT ARRAY[{texts}] INTO last FROM {table} AS t ORDER BY {desc} LIMIT 1;"
        " EXECUTE format({create}, coalesce((SELECT string_agg(quote_literal(k), ', ')"
        " FROM unnest(last) AS k), ''));"
        " EXECUTE format('COMMENT ON TABLE %s IS %L', {copy},"
        " json_build_object('through', last)::text); END"
    ).format(
        texts=texts,
        table=qualified(change.table),
        desc=desc,
        create=sql.Literal(create.as_string(None)),
        copy=sql.Literal(copy),
    )
    return sql.SQL("DO {}").format(sql.Literal(body.as_string(None)))


@statements.register
def _(change: xc.CopyExpand) -> list[Statement]:
    copy = copy_of(change.table, change.copy)
    result = [
        make_statement(
            Form.CREATE_TABLE,
            # autovacuum off until the swap: the batches' COMMENT would wait for it
            sql.SQL("CREATE TABLE {} (LIKE {} {}) WITH (autovacuum_enabled = false)").format(
                qualified(copy), qualified(change.table), sql.SQL(LIKE_OPTIONS)
            ),
        )
    ]
    for column, new_type, default in change.retypes:
        value = dict(change.columns)[column]
        action = sql.SQL("ALTER COLUMN {} TYPE {} USING {}").format(
            sql.Identifier(column), sql.SQL(new_type), sql.SQL(value)
        )
        result.append(alter_table(copy, Form.ALTER_TYPE, action))
        if default is not None:
            action = sql.SQL("ALTER COLUMN {} SET DEFAULT {}").format(
                sql.Identifier(column), sql.SQL(default)
            )
            result.append(alter_table(copy, Form.SET_DEFAULT, action))
    key = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY ({})").format(
        sql.Identifier(change.key_name), sql.SQL(", ").join(sql.Identifier(k) for k in change.key)
    )
    result.append(alter_table(copy, Form.ADD_PRIMARY_KEY, key))
    result.append(make_statement(Form.CREATE_FUNCTION, _trigger_function(change)))
    lock = sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(qualified(change.table))
    result.append(make_statement(Form.CREATE_TRIGGER, lock))
    result.append(make_statement(Form.CREATE_TRIGGER, _trigger_at_the_last_key(change)))
    truncate = sql.SQL(
        "CREATE TRIGGER {} AFTER TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}()"
    ).format(
        sql.Identifier(truncate_trigger(change.trigger)),
        qualified(change.table),
        sql.Identifier(change.table.schema, change.trigger),
    )
    result.append(make_statement(Form.CREATE_TRIGGER, truncate))
    return result


def _drop_triggers(table: QualifiedName, trigger: str) -> list[Statement]:
    """The copy's two triggers on the table dropped (its function stays)."""
    truncate = sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
        sql.Identifier(truncate_trigger(trigger)), qualified(table)
    )
    return [*drop_sync(table, trigger)[:1], make_statement(Form.DROP_TRIGGER, truncate)]


def batch_query(
    change: xc.CopyFill,
    key_types: list[str],
    after: list[str] | None,
    through: list[str],
    limit: int,
    conflicts: bool = False,
) -> sql.Composed:
    """One batch: the next `limit` rows by key after the last one copied, up to the last key
    there was at the start (run after the batch's copy_gate, in the same transaction). A
    plain INSERT (ON CONFLICT costs ~2.5x); `conflicts`: the trigger put some of those rows
    there (a key changed, a row inserted below the last key), which are newer and stay.
    Returns the batch's row count and its last key (as text), or no row when none is left."""
    table = qualified(change.table)
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in change.key)
    # qualified: the text outputs are named as the key columns, and ORDER BY prefers those
    desc = sql.SQL(", ").join(sql.SQL("src.{} DESC").format(sql.Identifier(k)) for k in change.key)

    def bound(values: list[str]) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("{}::{}").format(sql.Literal(v), sql.SQL(t))
            for v, t in zip(values, key_types, strict=True)
        )

    lower = (
        sql.SQL("")
        if after is None
        else sql.SQL("ROW({}) > ROW({}) AND ").format(keys, bound(after))
    )
    texts = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in change.key)
    return sql.SQL(
        "WITH src AS (SELECT * FROM {table} WHERE {lower}ROW({keys}) <= ROW({through})"
        " ORDER BY {keys} LIMIT {limit}),"
        " ins AS (INSERT INTO {copy} ({columns}) SELECT {values} FROM src AS {alias}"
        "{on_conflict})"
        " SELECT (SELECT count(*) FROM src), {texts} FROM src ORDER BY {desc} LIMIT 1"
    ).format(
        table=table,
        lower=lower,
        keys=keys,
        through=bound(through),
        limit=sql.Literal(limit),
        copy=qualified(copy_of(change.table, change.copy)),
        columns=column_list(change.columns),
        values=values_from(change.columns),
        alias=sql.Identifier(change.table.name),
        texts=texts,
        desc=desc,
        on_conflict=sql.SQL(" ON CONFLICT DO NOTHING" if conflicts else ""),
    )


@statements.register
def _(change: xc.CopyFill) -> list[Statement]:
    """For the plan and the record: the whole copy as one statement (it runs in batches)."""
    return [
        make_statement(
            Form.COPY_ROWS,
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} AS {} ON CONFLICT DO NOTHING").format(
                qualified(copy_of(change.table, change.copy)),
                column_list(change.columns),
                values_from(change.columns),
                qualified(change.table),
                sql.Identifier(change.table.name),
            ),
        )
    ]


@statements.register
def _(change: xc.CopySwap) -> list[Statement]:
    table = change.table
    copy = copy_of(table, change.copy)
    locked = sql.SQL(", ").join(qualified(t) for t in (*change.locked, table, copy))
    result = [
        make_statement(
            Form.LOCK_TABLE, sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(locked)
        ),
        *_drop_triggers(table, change.trigger),
    ]
    result.extend(
        alter_table(
            owner, Form.DROP_CONSTRAINT, sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(name))
        )
        for owner, name in change.drop_foreign_keys
    )
    if change.owner:  # before the sequences: one owned by a column has the table's owner
        given = sql.SQL("OWNER TO {}").format(sql.Identifier(change.owner))
        result.append(alter_table(copy, Form.RELATION_OWNER, given))
    for sequence, column in change.sequences:
        by = sql.Identifier(copy.schema, copy.name, column) if column else sql.SQL("NONE")
        owned = sql.SQL("ALTER SEQUENCE {} OWNED BY {}").format(sql.SQL(sequence), by)
        result.append(make_statement(Form.ALTER_SEQUENCE, owned))
    for view in reversed(change.views):  # deepest first
        result.extend(statements(cc.DropView(table, view)))
    result.append(
        make_statement(Form.DROP_TABLE, sql.SQL("DROP TABLE {}").format(qualified(table)))
    )
    rename = sql.SQL("RENAME TO {}").format(sql.Identifier(table.name))
    result.append(alter_table(copy, Form.RENAME_TABLE, rename))
    name, shadow = change.primary_key
    rename = sql.SQL("RENAME CONSTRAINT {} TO {}").format(
        sql.Identifier(shadow), sql.Identifier(name)
    )
    result.append(alter_table(table, Form.RENAME_CONSTRAINT, rename))
    result.extend(rename_index(table.schema, index, name) for name, index in change.indexes)
    for constraint, index in change.unique:
        attach = sql.SQL("ADD CONSTRAINT {} UNIQUE USING INDEX {}{}").format(
            sql.Identifier(constraint.name),
            sql.Identifier(index),
            deferrable_clause(constraint.deferrable, constraint.initially_deferred),
        )
        result.append(alter_table(table, Form.ADD_UNIQUE_USING_INDEX, attach))
    note = sql.Literal(change.comment) if change.comment is not None else sql.SQL("NULL")
    result.append(
        make_statement(
            Form.COMMENT, sql.SQL("COMMENT ON TABLE {} IS {}").format(qualified(table), note)
        )
    )
    target = Target("table", table.schema, table.name)
    result.extend(revoke_statements(target, change.revokes))
    result.extend(grant_statements(target, change.grants))
    enable, force = ROW_SECURITY[change.row_security]
    for action in (enable, force):
        if not action.startswith(("DISABLE", "NO FORCE")):  # a new table's
            result.append(alter_table(table, Form.ROW_SECURITY, sql.SQL(action)))
    for policy in change.policies:
        result.extend(statements(cc.CreatePolicy(table, policy)))
    for trigger in change.triggers:
        result.extend(statements(cc.CreateTrigger(table, trigger)))
    for view in change.views:
        result.extend(statements(cc.CreateView(table, view)))
    for owner, key in change.add_foreign_keys:
        result.extend(statements(tc.AddForeignKey(owner, key, not_valid=True)))
    result.extend(drop_sync(table, change.trigger)[1:])
    return result


@statements.register
def _(change: xc.CopyAbandon) -> list[Statement]:
    drop = sql.SQL("DROP TABLE IF EXISTS {}").format(qualified(copy_of(change.table, change.copy)))
    return [
        *_drop_triggers(change.table, change.trigger),
        *drop_sync(change.table, change.trigger)[1:],
        make_statement(Form.DROP_TABLE, drop),
    ]


@statements.register
def _(change: xc.AnalyzeTable) -> list[Statement]:
    """After the plan's last swap (autovacuum would hold the table those swaps lock)."""
    reset = sql.SQL("RESET (autovacuum_enabled)")
    return [
        alter_table(change.table, Form.STORAGE_PARAMETERS, reset),
        make_statement(Form.ANALYZE, sql.SQL("ANALYZE {}").format(qualified(change.table))),
    ]
