"""The table family as the file writes it: `dump` of tables, columns, indexes (a
materialized view's too), constraints and partitions."""

from __future__ import annotations

import re
from typing import Any

import psycopg

from mmschema.catalogsql import table_sql
from mmschema.desired.checks import shown, shown_part
from mmschema.kinds.tables.model import (
    Check,
    Column,
    ForeignKey,
    Index,
    IndexKey,
    Table,
    UniqueConstraint,
)
from mmschema.model import Catalog, QualifiedName
from mmschema.reparse import reparsable


def index_document(index: Index) -> dict[str, Any]:
    document: dict[str, Any] = {"columns": [key_document(k) for k in index.keys]}
    if index.unique:
        document["unique"] = True
    if index.method != "btree":
        document["using"] = index.method
    if index.where:
        document["where"] = index.where
    if index.include:
        document["include"] = list(index.include)
    if not index.nulls_distinct:
        document["nulls_distinct"] = False
    if index.with_options:
        document["with"] = dict(index.with_options)
    if index.comment is not None:
        document["comment"] = index.comment
    return document


def key_document(key: IndexKey) -> str | dict[str, str]:
    plain = not (key.opclass or key.collation or key.descending or key.nulls_first)
    if key.is_column and plain:
        return key.expr
    document = {"column": key.expr} if key.is_column else {"expr": key.expr}
    if key.opclass:
        document["opclass"] = key.opclass
    if key.collation:
        document["collation"] = key.collation
    if key.descending:
        document["order"] = "desc"
    if key.nulls_first != key.descending:
        document["nulls"] = "first" if key.nulls_first else "last"
    return document


SERIAL_TYPES = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}


NEXTVAL = re.compile(r"^nextval\('(?P<name>[^']+)'::regclass\)$")


SQL_PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")


def standalone_sequences(conn: psycopg.Connection[Any], catalog: Catalog) -> set[tuple[str, str]]:
    """(table, column) whose default calls a sequence named as serial's would be but that
    the column does not own: dumped as that default, not as serial (which would own one)."""
    candidates = [
        (t.name, c.name, match["name"])
        for t in catalog.tables.values()
        for c in t.columns
        if SERIAL_TYPES.get(c.type)
        and (match := NEXTVAL.match(c.default or ""))
        and match["name"] == _serial_sequence(t.name, c.name)
    ]
    if not candidates:
        return set()
    rows = conn.execute(
        table_sql("owned_sequences"),
        {
            "schemas": [t.schema for t, _, _ in candidates],
            "tables": [t.name for t, _, _ in candidates],
            "columns": [c for _, c, _ in candidates],
            "sequences": [q for _, _, q in candidates],
        },
    ).fetchall()
    owned = {(str(QualifiedName(schema, table)), column) for schema, table, column, _ in rows}
    return {(str(t), c) for t, c, _ in candidates} - owned


def table_key(name: QualifiedName) -> str:
    """The file's key for a table, sequence or enum: `name` in public, else `schema.name`,
    a part double-quoted where the file needs it (a dot, a double quote, white space)."""
    if name.schema == "public" and shown_part(name.name) == name.name:
        return name.name
    return shown(name)


def table_document(
    table: Table, standalone: set[tuple[str, str]] | None = None, parent: Table | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if table.partition_of is not None:  # its columns are its parent's
        document["partition_of"] = {
            "table": table_key(table.partition_of),
            "bound": table.partition_bound or "DEFAULT",
        }
        own = partition_columns_document(table, parent)
        if own:
            document["columns"] = own
    else:
        document["columns"] = {
            c.name: column_document(table.name, c, (str(table.name), c.name) in (standalone or ()))
            for c in table.columns
        }
    if table.partition_by is not None:
        document["partition_by"] = table.partition_by
    key = table.primary_key
    if key and not key.attached:  # an attached key is the parent's to declare
        if key.name == f"{table.name.name}_pkey":
            document["primary_key"] = list(key.columns)
        else:
            document["primary_key"] = {"name": key.name, "columns": list(key.columns)}
    indexes = [i for i in table.indexes if not i.attached]  # the parent's index declares it
    if indexes:
        document["indexes"] = {i.name: index_document(i) for i in indexes}
    if table.unique:
        document["unique"] = {u.name: unique_document(u) for u in table.unique}
    if table.foreign_keys:
        document["foreign_keys"] = {k.name: foreign_key_document(k) for k in table.foreign_keys}
    if table.checks:
        document["checks"] = {c.name: check_document(c) for c in table.checks}
    if table.exclusions:
        document["exclude"] = {
            x.name: x.definition.removeprefix("EXCLUDE ") for x in table.exclusions
        }
    if table.unlogged:
        document["unlogged"] = True
    if table.row_security != "off":
        document["row_level_security"] = True if table.row_security == "on" else table.row_security
    if table.replica_identity.startswith("index:"):
        document["replica_identity"] = {"index": table.replica_identity.removeprefix("index:")}
    elif table.replica_identity != "default":
        document["replica_identity"] = table.replica_identity
    if table.comment is not None:
        document["comment"] = table.comment
    return with_constraint_comments(document, table)


def with_constraint_comments(document: dict[str, Any], table: Table) -> dict[str, Any]:
    """The constraints' comments in their entries (a key or check in its map form);
    an exclusion constraint's entry is its text alone, and has none."""
    key = table.primary_key
    for name, text in table.constraint_comments:
        if key is not None and name == key.name and "primary_key" in document:
            entry = document["primary_key"]
            if isinstance(entry, list):
                entry = document["primary_key"] = {"name": name, "columns": entry}
            entry["comment"] = text
            continue
        for section in ("unique", "foreign_keys", "checks"):
            entries = document.get(section, {})
            if name in entries:
                entry = entries[name]
                if isinstance(entry, str):
                    entry = entries[name] = {"expr": entry}
                entry["comment"] = text
    return document


def check_document(check: Check) -> str | dict[str, Any]:
    expression = reparsable(check.expression)
    if check.valid and not check.no_inherit:
        return expression
    document: dict[str, Any] = {"expr": expression}
    if not check.valid:
        document["valid"] = False
    if check.no_inherit:
        document["no_inherit"] = True
    return document


def deferrable_value(deferrable: bool, initially_deferred: bool) -> bool | str:
    return "initially_deferred" if initially_deferred else deferrable


def unique_document(constraint: UniqueConstraint) -> dict[str, Any]:
    document: dict[str, Any] = {"columns": list(constraint.columns)}
    if constraint.deferrable:
        document["deferrable"] = deferrable_value(True, constraint.initially_deferred)
    if not constraint.nulls_distinct:
        document["nulls_distinct"] = False
    return document


def foreign_key_document(key: ForeignKey) -> dict[str, Any]:
    document: dict[str, Any] = {
        "columns": list(key.columns),
        "references": {"table": table_key(key.references), "columns": list(key.referenced_columns)},
    }
    if key.on_delete != "no_action":
        document["on_delete"] = key.on_delete
    if key.on_update != "no_action":
        document["on_update"] = key.on_update
    if key.deferrable:
        document["deferrable"] = deferrable_value(True, key.initially_deferred)
    if not key.valid:
        document["valid"] = False
    return document


def partition_columns_document(table: Table, parent: Table | None) -> dict[str, Any]:
    """A partition's own NOT NULL and DEFAULT: where its column differs from the parent's."""
    if parent is None:
        return {}
    above = {c.name: c for c in parent.columns}
    found: dict[str, Any] = {}
    for column in table.columns:
        theirs = above.get(column.name)
        if theirs is None:
            continue
        own: dict[str, Any] = {}
        if column.nullable != theirs.nullable:
            own["nullable"] = column.nullable
        if column.default != theirs.default:
            own["default"] = column.default
        if own:
            found[column.name] = own
    return found


def column_document(
    table: QualifiedName, column: Column, standalone: bool = False
) -> dict[str, Any]:
    document: dict[str, Any] = {"type": column.type}
    default = column.default
    serial = None if standalone else SERIAL_TYPES.get(column.type)
    match = NEXTVAL.match(default or "")
    if serial and match and match["name"] == _serial_sequence(table, column.name):
        document["type"] = serial
        default = None
    if not column.nullable and not serial_or_identity(document["type"], column):
        document["nullable"] = False
    if default is not None:
        document["default"] = default
    for field in ("identity", "generated", "collation", "comment"):
        value = getattr(column, field)
        if value is not None:
            document[field] = value
    if column.identity is not None and column.identity_options:
        document["identity"] = {
            "generated": column.identity,
            **{k: v == "true" if k == "cycle" else int(v) for k, v in column.identity_options},
        }
    return document


def serial_or_identity(type_name: str, column: Column) -> bool:
    return type_name in SERIAL_TYPES.values() or column.identity is not None


def _serial_sequence(table: QualifiedName, column: str) -> str:
    """How regclass prints the sequence that serial creates for this column."""

    def quoted(part: str) -> str:
        return part if SQL_PLAIN_IDENTIFIER.match(part) else '"' + part.replace('"', '""') + '"'

    return f"{quoted(table.schema)}.{quoted(f'{table.name}_{column}_seq')}"
