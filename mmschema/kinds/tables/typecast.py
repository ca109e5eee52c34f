"""Classifies column type changes: binary-coercible, rewrite, lossy, or no implicit cast.

Same base type with a new modifier follows PostgreSQL's rules for each type (a longer
varchar or a numeric with more integer digits and the same scale is binary-coercible;
a shorter one rounds, truncates or rejects values). Between different types, pg_cast on
the target decides: a binary-coercible cast needs no rewrite, an implicit cast rewrites,
an assignment cast can lose data, and without either the change needs USING.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import psycopg
from psycopg import sql

from mmschema import changes as ch
from mmschema.catalogsql import table_sql
from mmschema.kinds.tables import column_changes as cc


class Cast(Enum):
    BINARY = "binary-coercible"
    REWRITE = "rewrite"
    LOSSY = "lossy"
    NO_CAST = "no implicit cast"


@dataclass(frozen=True)
class ParsedType:
    base: str
    modifiers: tuple[int, ...]
    array: bool

    @property
    def key(self) -> tuple[str, bool]:
        return self.base, self.array


TYPE_TEXT = re.compile(
    r"^(?P<head>.*?)(?:\((?P<mods>[\d,\s]+)\))?(?P<tail>[^()]*?)(?P<array>(\[\])*)$"
)
LENGTH_TYPES = {"character varying", "bit varying", "character", "bit"}
PRECISION_TYPES = {
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
    "time with time zone",
    "interval",
}
STRING_TYPES = {"text", "character varying", "character"}


def parse_type(text: str) -> ParsedType:
    """format_type() output split into base name, modifiers and array-ness."""
    match = TYPE_TEXT.match(text.strip())
    if match is None:
        return ParsedType(text, (), False)
    base = f"{match['head']}{match['tail']}".strip()
    mods = tuple(int(m) for m in match["mods"].split(",")) if match["mods"] else ()
    return ParsedType(base, mods, bool(match["array"]))


def same_base(old: ParsedType, new: ParsedType) -> Cast:
    """A modifier change within one type."""
    if not new.modifiers:
        return Cast.BINARY if old.base not in {"character", "bit"} else Cast.REWRITE
    if not old.modifiers:
        return Cast.LOSSY
    if old.base == "numeric":
        precision, scale = old.modifiers[0], (old.modifiers[1:] or (0,))[0]
        new_precision, new_scale = new.modifiers[0], (new.modifiers[1:] or (0,))[0]
        if new_scale < scale or new_precision - new_scale < precision - scale:
            return Cast.LOSSY
        return Cast.BINARY if new_scale == scale else Cast.REWRITE
    if old.base in LENGTH_TYPES or old.base in PRECISION_TYPES:
        if new.modifiers[0] < old.modifiers[0]:
            return Cast.LOSSY
        fixed_width = old.base in {"character", "bit"}
        return Cast.REWRITE if fixed_width else Cast.BINARY
    return Cast.REWRITE


def limits_length(new: ParsedType) -> bool:
    return new.base in LENGTH_TYPES and bool(new.modifiers)


TIMESTAMPS = {"timestamp without time zone", "timestamp with time zone"}
UTC_ZONES = {
    f"{prefix}{zone}"
    for prefix in ("", "Etc/")
    for zone in ("UTC", "UCT", "GMT", "GMT0", "Zulu", "Universal", "Greenwich")
}


def classify(
    old_text: str, new_text: str, cast_row: tuple[str, str] | None, utc: bool = False
) -> Cast:
    """cast_row: (castcontext, castmethod) of pg_cast from old to new base type, if any.

    utc: the session time zone is UTC, where timestamp <-> timestamptz needs no rewrite.
    """
    old, new = parse_type(old_text), parse_type(new_text)
    if old.key == new.key:
        return same_base(old, new)
    if utc and {old.base, new.base} == TIMESTAMPS and old.array == new.array:
        narrower = bool(new.modifiers) and (not old.modifiers or new.modifiers < old.modifiers)
        return Cast.LOSSY if narrower else Cast.BINARY
    if old.array != new.array:
        return Cast.NO_CAST
    if cast_row is None:
        if new.base in STRING_TYPES:  # I/O conversion to a string type is an assignment cast
            return Cast.LOSSY if limits_length(new) else Cast.REWRITE
        return Cast.NO_CAST
    context, method = cast_row
    if context == "e":
        return Cast.NO_CAST
    if context == "a":
        return Cast.LOSSY
    if method == "b":
        return Cast.LOSSY if limits_length(new) else Cast.BINARY
    return Cast.LOSSY if limits_length(new) else Cast.REWRITE


def classify_type_changes(
    conn: psycopg.Connection[Any], changes: list[ch.Change]
) -> list[ch.Change]:
    """The changes with each AlterColumnType's cast filled in (and USING where needed)."""
    pairs = [
        (parse_type(c.old_type), parse_type(c.new_type))
        for c in changes
        if isinstance(c, cc.AlterColumnType)
    ]
    if not pairs:
        return changes
    bases = {
        "old": [_element(o) for o, _ in pairs],
        "new": [_element(n) for _, n in pairs],
    }
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        rows = conn.execute(table_sql("casts"), bases).fetchall()
        zone = conn.execute("SELECT current_setting('TimeZone')").fetchone()
    utc = zone is not None and zone[0] in UTC_ZONES
    casts = {(old, new): (ctx, method) for old, new, ctx, method in rows if ctx is not None}
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, cc.AlterColumnType):
            key = (_element(parse_type(change.old_type)), _element(parse_type(change.new_type)))
            cast = classify(change.old_type, change.new_type, casts.get(key), utc)
            using = change.using
            if using is None and cast is Cast.NO_CAST:
                # Without even an explicit cast (or a string's I/O conversion), the value's
                # text is read as the new type: the pre-flight counts what that rejects.
                by_text = key not in casts and key[0] not in STRING_TYPES
                convert = text_cast if by_text else explicit_cast
                using = convert(change.column, change.new_type)
            change = replace(change, cast=cast.value, using=using)
        result.append(change)
    return result


def _element(parsed: ParsedType) -> str:
    return parsed.base


def explicit_cast(column: str, new_type: str) -> str:
    """USING "column"::new_type, for a change without an implicit or assignment cast."""
    return sql.SQL("{}::{}").format(sql.Identifier(column), sql.SQL(new_type)).as_string(None)


def text_cast(column: str, new_type: str) -> str:
    """USING "column"::text::new_type, for types without any cast between them."""
    return sql.SQL("{}::text::{}").format(sql.Identifier(column), sql.SQL(new_type)).as_string(None)
