"""Pre-flight of an online type change: the rows whose value the conversion rejects, counted
read-only before the shadow column exists (the plain ALTER's check only knows input casts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors, sql

from mmschema.hazards import Hazard
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import Column, Index, IndexKey, Table
from mmschema.model import QualifiedName

Check = Callable[[psycopg.Connection[Any]], Hazard | None]

REJECTED_SETTING = "mmschema.rejected_rows"
INTEGERS = ("smallint", "integer", "bigint")


def never_rejects(old_type: str, change: cc.RetypeExpand, plain_value: str) -> bool:
    """A widening no value can fail (int to bigint): the scan would be wasted on a big table."""
    if change.value != plain_value:
        return False
    if old_type in INTEGERS and change.new_type in INTEGERS:
        return INTEGERS.index(old_type) <= INTEGERS.index(change.new_type)
    return change.new_type == "text"


def _converted(change: cc.RetypeExpand) -> sql.Composable:
    return sql.SQL("CAST(({}) AS {})").format(sql.SQL(change.value), sql.SQL(change.new_type))


def converted_unique_keys(table: Table, change: cc.RetypeExpand) -> list[Index]:
    """The table's unique keys over the column (as plain keys), the converted value in its
    place: values the conversion makes equal ('01' and '1' as integer) break them."""
    keysets: list[tuple[str, tuple[str, ...], str | None, bool]] = []
    if table.primary_key is not None:
        keysets.append((table.primary_key.name, table.primary_key.columns, None, True))
    keysets += [(u.name, u.columns, None, u.nulls_distinct) for u in table.unique]
    keysets += [
        (i.name, tuple(k.expr for k in i.keys), i.where, i.nulls_distinct)
        for i in table.indexes
        if i.unique and all(k.is_column and not k.collation for k in i.keys)
    ]
    value = _converted(change).as_string(None)
    return [
        Index(
            name,
            tuple(
                IndexKey(value, is_column=False) if c == change.column else IndexKey(c)
                for c in columns
            ),
            unique=True,
            where=where,
            nulls_distinct=nulls_distinct,
        )
        for name, columns, where, nulls_distinct in keysets
        if change.column in columns
    ]


def _pending(shadow: str | None) -> sql.Composable:
    """The rows to check: all, or on a resumed change those its shadow does not hold yet."""
    if not shadow:
        return sql.SQL("")
    return sql.SQL(" WHERE {} IS NULL").format(sql.Identifier(shadow))


def _whole_table_query(
    table: QualifiedName, change: cc.RetypeExpand, not_null: bool, pending: str | None
) -> sql.Composed:
    """One scan converting every row: fails at the first rejected value, else counts the
    rows that convert to NULL where the column must not be NULL."""
    nulls = sql.SQL("v IS NULL") if not_null else sql.SQL("false")
    return sql.SQL(
        # count(v): a subquery output nothing reads is never computed (the planner drops it)
        "SELECT count(*) FILTER (WHERE {}), count(v) FROM (SELECT {} AS v FROM {} AS {}{}) AS c"
    ).format(
        nulls,
        _converted(change),
        sql.Identifier(table.schema, table.name),
        sql.Identifier(table.name),
        _pending(pending),
    )


def _row_by_row(
    table: QualifiedName, change: cc.RetypeExpand, not_null: bool, pending: str | None
) -> sql.Composed:
    """Each row converted in its own subtransaction (read-only), the rejected ones counted
    into a transaction-local setting: only run once the whole-table scan failed."""
    target = sql.Identifier(table.schema, table.name)
    value = sql.SQL("(SELECT {} FROM (SELECT r.*) AS {})").format(
        _converted(change), sql.Identifier(table.name)
    )
    null_counts = sql.SQL("IF v IS NULL THEN n := n + 1; END IF;") if not_null else sql.SQL("")
    body = sql.SQL(
        # use_column: a column named like a variable (r, v, n) is the column in the value
        "#variable_conflict use_column\n"
        "DECLARE r {target}%ROWTYPE; v {type}; n bigint := 0;"
        " BEGIN"
        " FOR r IN SELECT * FROM {target}{pending} LOOP"
        " BEGIN v := {value}; {nulls}"
        " EXCEPTION WHEN data_exception THEN n := n + 1;"
        " END;"
        " END LOOP;"
        " PERFORM set_config({setting}, n::text, true);"
        " END"
    ).format(
        target=target,
        pending=_pending(pending),
        type=sql.SQL(change.new_type),
        value=value,
        nulls=null_counts,
        setting=sql.Literal(REJECTED_SETTING),
    )
    return sql.SQL("DO {}").format(sql.Literal(body.as_string(None)))


def conversion_check(
    table: QualifiedName, change: cc.RetypeExpand, column: Column, pending: str | None = None
) -> Check:
    """may_fail with the number of rows the conversion rejects (values the new type refuses,
    or NULL where the column is NOT NULL); with `pending` (the shadow column), only the
    rows whose shadow is still NULL (a resumed backfill: the others converted already)."""
    not_null = not column.nullable
    target = f"{change.column} to {change.new_type}"

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        try:
            with conn.transaction():
                row = conn.execute(_whole_table_query(table, change, not_null, pending)).fetchone()
            found = int(row[0]) if row else 0
        except psycopg.DataError as first:
            counted, reason = _count_rows(conn, table, change, not_null, pending)
            detail = f"first error: {first.diag.message_primary or first}"
            if counted is None:
                return Hazard(
                    "may_fail",
                    f"at least one row of {table} fails the conversion of {target} ({detail}); "
                    f"{reason}",
                )
            return Hazard(
                "may_fail", f"{counted} rows of {table} fail the conversion of {target} ({detail})"
            )
        if not found:
            return None
        return Hazard(
            "may_fail", f"{found} rows of {table} convert {change.column} to NULL; it is NOT NULL"
        )

    return check


def _count_rows(
    conn: psycopg.Connection[Any],
    table: QualifiedName,
    change: cc.RetypeExpand,
    not_null: bool,
    pending: str | None,
) -> tuple[int | None, str]:
    try:
        with conn.transaction():
            conn.execute(_row_by_row(table, change, not_null, pending))
            row = conn.execute(
                sql.SQL("SELECT current_setting({}, true)").format(sql.Literal(REJECTED_SETTING))
            ).fetchone()
    except errors.QueryCanceled:
        return None, "counting them row by row took too long"
    except psycopg.Error as error:
        return None, f"they could not be counted ({error.diag.message_primary or error})"
    return (int(row[0]) if row and row[0] else 0), ""
