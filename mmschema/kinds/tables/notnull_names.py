"""PostgreSQL 18 names NOT NULL constraints after their table and column: a renamed table or
column, or a detached partition, gets them renamed as a table created under its names has them."""

from __future__ import annotations

from typing import Any

import psycopg

from mmschema import changes as ch
from mmschema.catalogsql import table_sql
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.model import QualifiedName
from mmschema.pgnames import object_name

NAMED_NOT_NULL_SINCE = 180000


def default_not_null_name(table: str, column: str) -> str:
    """The name CREATE TABLE gives a column's NOT NULL constraint (ChooseConstraintName)."""
    return object_name(table, column, "not_null")


def with_not_null_names_renamed(
    conn: psycopg.Connection[Any], changes: list[ch.Change]
) -> list[ch.Change]:
    """RenameConstraint for each NOT NULL constraint that had PostgreSQL's default name
    under the old table or column name (a name given by hand is kept)."""
    if conn.info.server_version < NAMED_NOT_NULL_SINCE:
        return changes
    changes = with_detached_not_null_names(conn, changes)
    table_renames = {c.old: c.new for c in changes if isinstance(c, tc.RenameTable)}
    column_renames: dict[QualifiedName, dict[str, str]] = {}
    for change in changes:
        if isinstance(change, cc.RenameColumn):
            column_renames.setdefault(change.table, {})[change.old] = change.new
    if not table_renames and not column_renames:
        return changes
    live_name = {new: old for old, new in table_renames.items()}
    replaced = {c.table.name for c in changes if isinstance(c, tc.ReplaceTable)}
    tables = {live_name.get(t, t) for t in column_renames} | set(table_renames)
    rows = conn.execute(
        table_sql("not_null_names"),
        {"schemas": [t.schema for t in tables], "tables": [t.name for t in tables]},
    ).fetchall()
    renames: list[ch.Change] = []
    for schema, table, column, name, renamable in rows:
        old_table = QualifiedName(schema, table)
        new_table = table_renames.get(old_table, old_table)
        new_column = column_renames.get(new_table, {}).get(column, column)
        wanted = default_not_null_name(new_table.name, new_column)
        if (
            renamable
            and new_table not in replaced
            and name == default_not_null_name(table, column)
            and name != wanted
        ):
            renames.append(tc.RenameConstraint(new_table, name, wanted))
    return _after_renames(changes, renames)


def with_detached_not_null_names(
    conn: psycopg.Connection[Any], changes: list[ch.Change]
) -> list[ch.Change]:
    """RenameConstraint for each NOT NULL constraint a detached partition keeps under its
    parent's default name (`parent_col_not_null`): a table created alone has its own."""
    gone = {c.table for c in changes if isinstance(c, tc.DropTable)}
    gone |= {c.table.name for c in changes if isinstance(c, tc.ReplaceTable)}
    gone |= {c.table for c in changes if isinstance(c, tc.AttachPartition)}  # a parent's again
    detached = {
        c.table: c.parent
        for c in changes
        if isinstance(c, tc.DetachPartition) and c.table not in gone
    }
    if not detached:
        return changes
    rows = conn.execute(
        table_sql("partition_not_null_names"),
        {"schemas": [t.schema for t in detached], "tables": [t.name for t in detached]},
    ).fetchall()
    renames: list[ch.Change] = []
    for schema, table, column, name in rows:
        partition = QualifiedName(schema, table)
        wanted = default_not_null_name(table, column)
        if name == default_not_null_name(detached[partition].name, column) and name != wanted:
            renames.append(tc.RenameConstraint(partition, name, wanted))
    return _after_renames(changes, renames)


def _after_renames(changes: list[ch.Change], renames: list[ch.Change]) -> list[ch.Change]:
    """After the renames of their phase, before what comes later (a column's NOT NULL dropped)."""
    at = max(
        (i + 1 for i, c in enumerate(changes) if c.phase <= ch.Phase.RENAME_COLUMNS), default=0
    )
    return [*changes[:at], *renames, *changes[at:]]


def custom_not_null_names(
    conn: psycopg.Connection[Any], names: list[QualifiedName]
) -> list[tuple[str, str, str, str]]:
    """(schema, table, constraint, what) for each NOT NULL constraint named by hand, which
    schema.yaml cannot declare (PostgreSQL 18+)."""
    if conn.info.server_version < NAMED_NOT_NULL_SINCE or not names:
        return []
    rows = conn.execute(
        table_sql("not_null_names"),
        {"schemas": [n.schema for n in names], "tables": [n.name for n in names]},
    ).fetchall()
    return [
        (schema, table, name, "a NOT NULL constraint's own name")
        for schema, table, column, name, _ in rows
        if name != default_not_null_name(table, column)
    ]
