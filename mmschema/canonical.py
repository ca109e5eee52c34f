"""Declared tables already spelled as PostgreSQL prints them, read without a scratch server.

A file written by `dump` (or `fmt`) holds types as format_type() prints them and defaults
as pg_get_expr() does. Such a table is built here exactly as the scratch server would read
it back. "Canonical" is decided conservatively, field by field: built-in types in their
printed names, a few default forms whose printing is certain, plain-column btree indexes
and keys. Anything else (expressions, checks, partitions, options, user types) sends the
whole table to the scratch server, which also reports what is wrong with it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from mmschema.desired.declared import DeclaredColumn, DeclaredIndex, DeclaredTable
from mmschema.model import (
    Column,
    Index,
    IndexKey,
    PrimaryKey,
    QualifiedName,
    Table,
    UniqueConstraint,
)

MAX_NAME_BYTES = 63

INTEGER_RANGES = {
    "smallint": 2**15 - 1,
    "integer": 2**31 - 1,
    "bigint": 2**63 - 1,
}
# format_type() names of built-in types that have a default btree operator class.
SORTABLE = {
    *INTEGER_RANGES,
    "boolean",
    "text",
    "bytea",
    "date",
    "uuid",
    "jsonb",
    "real",
    "double precision",
    "numeric",
    "interval",
    "inet",
    "cidr",
    "macaddr",
    "money",
    "oid",
    "time without time zone",
    "time with time zone",
    "timestamp without time zone",
    "timestamp with time zone",
    "character varying",
    "character",
    "tsvector",
}
UNSORTABLE = {"json", "xml"}
BARE = (SORTABLE | UNSORTABLE) - {"character"}  # character alone prints as character(1)
PARAMETERIZED = re.compile(
    r"(?P<base>character varying|character|numeric|bit|bit varying)\((?P<args>\d+(,\d+)?)\)"
    r"|(?P<time>timestamp|time)\((?P<precision>[0-6])\) with(?P<out>out)? time zone"
)
COLLATABLE = {"text", "character varying", "character"}
COLLATIONS = {"C", "POSIX"}
PLAIN_STRING = re.compile(r"'[^'\\]*'")
FIXED_DEFAULTS = {
    "boolean": {"true", "false"},
    "jsonb": {"'{}'::jsonb", "'[]'::jsonb"},
    "timestamp with time zone": {"now()"},
    "uuid": {"gen_random_uuid()"},
}
STRING_CASTS = {"text": "text", "character varying": "character varying"}


def base_type(printed: str) -> str | None:
    """The type's name without parameters or array brackets, if it is a canonical built-in."""
    name = printed.removesuffix("[]")
    if name in BARE:
        return name
    found = PARAMETERIZED.fullmatch(name)
    if found is None:
        return None
    if found["time"]:
        return f"{found['time']} with{found['out'] or ''} time zone"
    if found["base"] == "numeric" and "," not in found["args"]:
        return None  # numeric(10) prints as numeric(10,0)
    return found["base"]


def canonical_default(default: str, printed_type: str) -> bool:
    """Whether pg_get_expr() prints this default of this type exactly so."""
    if printed_type.endswith("[]"):
        return False
    base = base_type(printed_type)
    if base is None:
        return False
    if base in INTEGER_RANGES or base == "numeric":
        if not default.isascii() or not default.isdigit() or len(default) > 18:
            return False
        # A literal past integer's range is a bigint or numeric constant, printed with a cast.
        limit = min(INTEGER_RANGES.get(base, INTEGER_RANGES["integer"]), INTEGER_RANGES["integer"])
        return int(default) <= limit and (default == "0" or not default.startswith("0"))
    if base in FIXED_DEFAULTS:
        return default in FIXED_DEFAULTS[base]
    cast = STRING_CASTS.get(base)
    if cast is not None:
        literal, _, suffix = default.rpartition("::")
        return suffix == cast and PLAIN_STRING.fullmatch(literal) is not None
    return False


def canonical_column(column: DeclaredColumn) -> Column | None:
    base = base_type(column.type)
    if base is None or column.generated is not None or column.identity_options:
        return None
    if column.identity is not None and column.type not in INTEGER_RANGES:
        return None
    if column.default is not None and not canonical_default(column.default, column.type):
        return None
    if column.collation is not None and (
        column.collation not in COLLATIONS or base not in COLLATABLE
    ):
        return None
    if column.comment == "":
        return None
    return Column(
        name=column.name,
        type=column.type,
        nullable=column.nullable,
        default=column.default,
        identity=column.identity,
        collation=column.collation,
        comment=column.comment,
    )


def canonical_index(index: DeclaredIndex, sortable: set[str]) -> Index | None:
    if (
        index.using != "btree"
        or index.where is not None
        or index.with_options
        or not index.nulls_distinct
        or index.comment == ""
        or not index.keys
    ):
        return None
    keys = []
    for key in index.keys:
        if key.column is None or key.opclass or key.collation or key.column not in sortable:
            return None
        descending = key.order == "desc"
        keys.append(
            IndexKey(
                expr=key.column,
                descending=descending,
                nulls_first=(key.nulls == "first") if key.nulls else descending,
            )
        )
    if any(column not in sortable for column in index.include):
        return None  # an included column needs no operator class; kept simple
    return Index(
        name=index.name,
        keys=tuple(keys),
        unique=index.unique,
        include=index.include,
        comment=index.comment,
    )


def canonical_table(table: DeclaredTable) -> Table | None:
    """The table as the scratch server would read it back, or None when it must go there."""
    if (
        table.partition_by is not None
        or table.partition_of is not None
        or table.checks
        or table.exclusions
        or table.comment == ""
    ):
        return None
    columns = []
    for declared in table.present_columns():
        column = canonical_column(declared)
        if column is None:
            return None
        columns.append(column)
    sortable = {
        c.name for c in columns if not c.type.endswith("[]") and base_type(c.type) in SORTABLE
    }
    primary_key = None
    if table.primary_key is not None:
        name = table.primary_key.name or f"{table.name.name}_pkey"
        if len(name.encode()) > MAX_NAME_BYTES or not set(table.primary_key.columns) <= sortable:
            return None
        primary_key = PrimaryKey(name, table.primary_key.columns)
    indexes = []
    for declared_index in table.present_indexes():
        index = canonical_index(declared_index, sortable)
        if index is None:
            return None
        indexes.append(index)
    unique = []
    for constraint in table.unique:
        if not constraint.nulls_distinct or not set(constraint.columns) <= sortable:
            return None
        unique.append(
            UniqueConstraint(
                constraint.name,
                constraint.columns,
                constraint.deferrable,
                constraint.initially_deferred,
            )
        )
    return Table(
        name=table.name,
        columns=tuple(columns),
        primary_key=primary_key,
        indexes=tuple(indexes),
        comment=table.comment,
        unique=tuple(unique),
    )


def relation_names(table: DeclaredTable) -> list[tuple[str, str]]:
    """(schema, name) of every relation and type the table makes."""
    schema = table.name.schema
    names = [(schema, table.name.name)]
    if table.primary_key is not None:
        names.append((schema, table.primary_key.name or f"{table.name.name}_pkey"))
    names.extend((schema, i.name) for i in table.present_indexes())
    names.extend((schema, u.name) for u in table.unique)
    return names


def canonical_tables(
    tables: Iterable[DeclaredTable], taken: Iterable[tuple[str, str]] = ()
) -> dict[QualifiedName, Table]:
    """The tables that need no scratch server, as it would read them back.

    A name used twice in a schema (or by a type there) sends its tables to the server,
    which says so with the declaration's position.
    """
    listed = list(tables)
    counts = Counter(name for t in listed for name in relation_names(t))
    counts.update(taken)
    found = {}
    for table in listed:
        if any(counts[name] > 1 for name in relation_names(table)):
            continue
        built = canonical_table(table)
        if built is not None:
            found[table.name] = built
    return found
