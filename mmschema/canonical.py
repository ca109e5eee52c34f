"""Declared tables already spelled as PostgreSQL prints them, read without a scratch server.

A file written by `dump` (or `fmt`) holds types as format_type() prints them and defaults
as pg_get_expr() does. Such a table is built here exactly as the scratch server would read
it back. "Canonical" is decided conservatively, field by field, in one of two ways:

- by form: built-in types in their printed names, a few default forms whose printing is
  certain, plain-column btree indexes and keys (the same on every major);
- by what PostgreSQL printed: a text byte-identical to what the live catalog prints for
  the same object of a table with the same columns (names, types, collations, in order).
  Expressions (checks, index keys and predicates, defaults, generated columns,
  exclusions) are accepted only so, never by guessing at PostgreSQL's deparser.

Anything else (other spellings, partitions) sends the whole table to the scratch server,
which also reports what is wrong with it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache

from mmschema.desired.declared import DeclaredColumn, DeclaredIndex, DeclaredTable
from mmschema.kinds.tables.model import (
    SERIAL_TYPES,
    Check,
    Column,
    Exclusion,
    Index,
    IndexKey,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from mmschema.kinds.tables.scratch import raw_index
from mmschema.model import QualifiedName
from mmschema.nextval import referenced_sequences

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
PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")
QUALIFIED_PART = re.compile(r'"([^"]+)"|([^".]+)')
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


@cache  # a file repeats a few types over and over
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


def canonical_column(
    column: DeclaredColumn, printed: Column | None = None, table: QualifiedName | None = None
) -> Column | None:
    """The column as the scratch server reads it back, or None when it must go there.

    `printed` is the same column as PostgreSQL printed it in a table of the same columns
    (`table`): a text equal to it is its own normal form, whatever its form."""
    if column.comment == "":
        return None
    if column.type.lower() in SERIAL_TYPES:
        return serial_column(column, printed, table)
    if (
        printed is not None
        and same_texts(column, printed)
        and (column.name, column.nullable, column.comment)
        == (printed.name, printed.nullable, printed.comment)
    ):
        return printed  # the printed column itself: the diff finds the two the same object
    built = Column(
        name=column.name,
        type=column.type,
        nullable=column.nullable,
        default=column.default,
        identity=column.identity,
        generated=column.generated,
        collation=column.collation,
        comment=column.comment,
        identity_options=column.identity_options,
    )
    if printed is not None and same_texts(column, printed):
        return built
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
    return built


def serial_sequence(table: QualifiedName, column: str) -> QualifiedName | None:
    """The sequence a serial column of a fresh table gets, when its name is plain."""
    name = f"{table.name}_{column}_seq"
    if len(name.encode()) > MAX_NAME_BYTES or not PLAIN_NAME.fullmatch(name):
        return None
    return QualifiedName(table.schema, name)


def serial_column(
    column: DeclaredColumn, printed: Column | None, table: QualifiedName | None
) -> Column | None:
    """A serial column, when the live one is its type with the default of a fresh table's
    sequence (its name counted among the file's relations, so no other takes it)."""
    sequence = serial_sequence(table, column.name) if table is not None else None
    if printed is None or sequence is None or not PLAIN_NAME.fullmatch(sequence.schema):
        return None
    default = f"nextval('{sequence}'::regclass)"
    declared = Column(
        name=column.name,
        type=SERIAL_TYPES[column.type.lower()],
        nullable=column.nullable,
        default=default,
        comment=column.comment,
    )
    untouched = (column.default, column.identity, column.generated, column.collation) == (
        None,
        None,
        None,
        None,
    )
    if not untouched or column.identity_options or column.nullable or printed.nullable:
        return None
    return declared if same_texts(declared, printed) else None


def same_texts(column: Column | DeclaredColumn, printed: Column) -> bool:
    """Whether every SQL text of the column is the one PostgreSQL printed."""
    return (
        column.type,
        column.default,
        column.identity,
        column.generated,
        column.collation,
        column.identity_options,
    ) == (
        printed.type,
        printed.default,
        printed.identity,
        printed.generated,
        printed.collation,
        printed.identity_options,
    )


def canonical_index(
    index: DeclaredIndex, sortable: set[str], printed: Index | None = None
) -> Index | None:
    if index.comment == "":
        return None
    if printed is not None:
        built = raw_index(index)
        if built == printed and not printed.parts:
            return printed  # the diff then finds the two the same object
        if built.same_definition(printed):
            return built
    if (
        index.using != "btree"
        or index.where is not None
        or index.with_options
        or not index.nulls_distinct
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


def signature_type(type_text: str) -> str:
    """A column's type as far as an expression's printing depends on it (a serial is its
    integer type); with its name and collation, what comparable_printing compares."""
    return SERIAL_TYPES.get(type_text.lower(), type_text)


def comparable_printing(
    table: DeclaredTable,
    printed: Table | None,
    declared: tuple[DeclaredColumn, ...] | None = None,
) -> Table | None:
    """The printed table, if its texts can stand for the declared table's: same columns
    (`declared`: the table's present columns, when the caller has them)."""
    if printed is None or printed.partition_by is not None:
        return None
    if declared is None:
        declared = table.present_columns()
    if len(declared) != len(printed.columns):
        return None
    for mine, theirs in zip(declared, printed.columns, strict=True):
        if mine.name != theirs.name or (mine.collation or "") != (theirs.collation or ""):
            return None
        if mine.type != theirs.type and signature_type(mine.type) != signature_type(theirs.type):
            return None
    return printed


def canonical_table(table: DeclaredTable, printed: Table | None = None) -> Table | None:
    """The table as the scratch server would read it back, or None when it must go there.

    `printed` is the live table of the same name: its texts are PostgreSQL's own."""
    if (
        table.partition_by is not None
        or table.partition_of is not None
        or table.comment == ""
    ):
        return None
    present = table.present_columns()
    printed = comparable_printing(table, printed, present)
    live_columns = {c.name: c for c in printed.columns} if printed else {}
    columns = []
    for declared in present:
        column = canonical_column(declared, live_columns.get(declared.name), table.name)
        if column is None:
            return None
        columns.append(column)
    sortable = {
        c.name for c in columns if not c.type.endswith("[]") and base_type(c.type) in SORTABLE
    }
    primary_key = None
    if table.primary_key is not None:
        name = table.primary_key.name or f"{table.name.name}_pkey"
        primary_key = PrimaryKey(name, table.primary_key.columns)
        as_printed = printed is not None and printed.primary_key == primary_key
        fits = len(name.encode()) <= MAX_NAME_BYTES and set(primary_key.columns) <= sortable
        if not (as_printed or fits):
            return None
    live_indexes = {i.name: i for i in printed.indexes} if printed else {}
    indexes = []
    for declared_index in table.present_indexes():
        index = canonical_index(declared_index, sortable, live_indexes.get(declared_index.name))
        if index is None:
            return None
        indexes.append(index)
    live_unique = {u.name: u for u in printed.unique} if printed else {}
    unique = []
    for constraint in table.unique:
        built = UniqueConstraint(
            constraint.name,
            constraint.columns,
            constraint.deferrable,
            constraint.initially_deferred,
            constraint.nulls_distinct,
        )
        fits = constraint.nulls_distinct and set(constraint.columns) <= sortable
        if not (fits or live_unique.get(constraint.name) == built):
            return None
        unique.append(built)
    checks = printed_checks(table, printed)
    exclusions = printed_exclusions(table, printed)
    if checks is None or exclusions is None:
        return None
    return Table(
        name=table.name,
        columns=tuple(columns),
        primary_key=primary_key,
        indexes=tuple(indexes),
        comment=table.comment,
        unique=tuple(unique),
        checks=checks,
        exclusions=exclusions,
    )


def printed_checks(table: DeclaredTable, printed: Table | None) -> tuple[Check, ...] | None:
    """The declared checks, if each is written exactly as PostgreSQL printed it."""
    live = {c.name: c.expression for c in printed.checks} if printed else {}
    checks = []
    for check in table.checks:
        if live.get(check.name) != check.expr:
            return None
        checks.append(Check(check.name, check.expr, no_inherit=check.no_inherit))
    return tuple(checks)


def printed_exclusions(
    table: DeclaredTable, printed: Table | None
) -> tuple[Exclusion, ...] | None:
    """The declared exclusion constraints, if each is written exactly as PostgreSQL printed it."""
    live = {x.name: x.definition for x in printed.exclusions} if printed else {}
    exclusions = []
    for exclusion in table.exclusions:
        definition = f"EXCLUDE {exclusion.body}"
        if live.get(exclusion.name) != definition:
            return None
        exclusions.append(Exclusion(exclusion.name, definition))
    return tuple(exclusions)


def relation_names(table: DeclaredTable) -> list[tuple[str, str]]:
    """(schema, name) of every relation and type the table makes."""
    schema = table.name.schema
    names = [(schema, table.name.name)]
    if table.primary_key is not None:
        names.append((schema, table.primary_key.name or f"{table.name.name}_pkey"))
    names.extend((schema, i.name) for i in table.present_indexes())
    names.extend((schema, u.name) for u in table.unique)
    for column in table.present_columns():
        if column.type.lower() in SERIAL_TYPES:
            sequence = serial_sequence(table.name, column.name)
            if sequence is not None:
                names.append((sequence.schema, sequence.name))
        if column.default is not None and "nextval" in column.default:
            names.extend(sequence_names(column.default))
    return names


def sequence_names(default: str) -> list[tuple[str, str]]:
    """(schema, name) of the sequences a default's nextval() calls name (public unqualified)."""
    found = []
    for text in referenced_sequences(default):
        parts = [quoted or plain for quoted, plain in QUALIFIED_PART.findall(text)]
        found.append((parts[0], parts[1]) if len(parts) == 2 else ("public", parts[-1]))
    return found


def canonical_tables(
    tables: Iterable[DeclaredTable],
    taken: Iterable[tuple[str, str]] = (),
    printed: Mapping[QualifiedName, Table] | None = None,
) -> dict[QualifiedName, Table]:
    """The tables that need no scratch server, as it would read them back; with `printed`
    (the live tables), also those whose texts are as PostgreSQL printed them there.

    A name used twice in a schema (or by a type there) sends its tables to the server,
    which says so with the declaration's position.
    """
    listed = list(tables)
    made = [relation_names(t) for t in listed]
    counts = Counter(name for names in made for name in names)
    counts.update(taken)
    found = {}
    for table, names in zip(listed, made, strict=True):
        if any(counts[name] > 1 for name in names):
            continue
        built = canonical_table(table, printed.get(table.name) if printed else None)
        if built is not None:
            found[table.name] = built
    return found
