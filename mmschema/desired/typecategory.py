"""Which types a foreign key may join: PostgreSQL's type categories, by a type's spelling."""

from __future__ import annotations

import re

# Base type (as declared or as format_type prints it) to a family within which implicit
# casts or cross-type equality operators let a foreign key reference another member.
_FAMILIES: dict[str, tuple[str, ...]] = {
    "numeric": (
        "smallint", "int2", "integer", "int", "int4", "bigint", "int8", "serial", "serial4",
        "bigserial", "serial8", "smallserial", "serial2", "numeric", "decimal", "real",
        "float4", "double precision", "float8", "float",
    ),
    "string": ("text", "varchar", "character varying", "char", "character", "bpchar", "name"),
    "datetime": (
        "date", "timestamp", "timestamptz", "timestamp with time zone",
        "timestamp without time zone",
    ),
    "time": ("time", "timetz", "time with time zone", "time without time zone"),
    "uuid": ("uuid",),
    "boolean": ("boolean", "bool"),
    "bytea": ("bytea",),
    "jsonb": ("jsonb",),
    "json": ("json",),
    "interval": ("interval",),
    "network": ("inet", "cidr"),
    "macaddr": ("macaddr", "macaddr8"),
}
_CATEGORY = {name: family for family, names in _FAMILIES.items() for name in names}
_SPACES = re.compile(r"\s+")
_MODIFIERS = re.compile(r"\([^)]*\)")


def type_category(spelling: str) -> str | None:
    """The family of a type's spelling; None for arrays, enums, domains and other types."""
    text = _SPACES.sub(" ", _MODIFIERS.sub("", spelling.lower())).strip()
    text = text.removeprefix("pg_catalog.").strip('"')
    if text.endswith("]"):
        return None
    return _CATEGORY.get(text)


def can_reference(referencing: str, referenced: str) -> bool:
    """False only when both types are known and no implicit cast joins them."""
    first, second = type_category(referencing), type_category(referenced)
    return first is None or second is None or first == second
