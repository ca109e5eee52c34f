"""Declared tables that differ only in their names: normalized once, the result renamed.

A schema-per-tenant file declares the same tables in every schema. The scratch server's
reading of a table does not depend on its name or its objects' names when no text of it
does (no serial, whose default names its table's sequence; no name PostgreSQL would have
to choose itself), so one table of each shape goes through it and the others take its
result under their own names. Anything in doubt is not grouped.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from mmschema.canonical import MAX_NAME_BYTES, relation_names
from mmschema.desired.declared import DeclaredTable
from mmschema.kinds.tables.model import SERIAL_TYPES, Table
from mmschema.model import QualifiedName


class ShapeMismatch(Exception):
    """A read-back did not have the objects its declaration names (never expected)."""


@dataclass(frozen=True)
class Shapes:
    """Which table stands for which: every table maps to the one normalized for it."""

    stands_for: dict[QualifiedName, QualifiedName]  # table -> its representative
    declared: dict[QualifiedName, DeclaredTable]

    @property
    def representatives(self) -> list[QualifiedName]:
        return list(dict.fromkeys(self.stands_for.values()))


def object_names(table: DeclaredTable) -> list[str]:
    """The names of what the table makes, in declaration order (the key's default name too)."""
    names = []
    if table.primary_key is not None:
        names.append(table.primary_key.name or f"{table.name.name}_pkey")
    names += [i.name for i in table.present_indexes()]
    names += [u.name for u in table.unique]
    names += [c.name for c in table.checks]
    names += [x.name for x in table.exclusions]
    return names


def shape_of(table: DeclaredTable) -> object | None:
    """Everything of the table the scratch server reads but its names; None: not grouped."""
    if (
        table.partition_by is not None
        or table.partition_of is not None
        or any(c.type.strip().lower() in SERIAL_TYPES for c in table.columns)
        or len(f"{table.name.name}_pkey".encode()) > MAX_NAME_BYTES
    ):
        return None
    columns = tuple(without(c, "source") for c in table.present_columns())
    indexes = tuple(without(i, "name", "source") for i in table.present_indexes())
    unique = tuple(without(u, "name", "source") for u in table.unique)
    checks = tuple(without(c, "name", "source") for c in table.checks)
    exclusions = tuple(x.body for x in table.exclusions)
    key = table.primary_key
    return (
        columns,
        (key.columns, key.name is None) if key is not None else None,
        indexes,
        unique,
        checks,
        exclusions,
        table.comment,
    )


def without(item: object, *skipped: str) -> tuple[object, ...]:
    """A dataclass's values but the skipped fields, as a key."""
    return tuple(value for name, value in vars(item).items() if name not in skipped)


def group_shapes(
    tables: Iterable[DeclaredTable],
    everything: Iterable[DeclaredTable],
    taken: Iterable[tuple[str, str]],
    linked: set[QualifiedName],
) -> Shapes:
    """Tables grouped by shape (within `everything` no name of theirs is used twice)."""
    listed = list(tables)
    made = {t.name: relation_names(t) for t in everything}
    counts = Counter(name for names in made.values() for name in names)
    counts.update(taken)
    by_shape: dict[object, QualifiedName] = {}
    stands_for: dict[QualifiedName, QualifiedName] = {}
    for table in listed:
        shape = None
        own = made.get(table.name) or relation_names(table)
        if table.name not in linked and all(counts[n] == 1 for n in own):
            shape = shape_of(table)
        if shape is None:
            stands_for[table.name] = table.name
            continue
        stands_for[table.name] = by_shape.setdefault(shape, table.name)
    return Shapes(stands_for, {t.name: t for t in listed})


def renamed(read_back: Table, representative: DeclaredTable, table: DeclaredTable) -> Table:
    """The representative's read-back under the table's own names, in the catalog's order."""
    names = dict(zip(object_names(representative), object_names(table), strict=True))

    def rename(name: str) -> str:
        if name not in names:
            raise ShapeMismatch(f"{name} of {read_back.name} is not declared")
        return names[name]

    key = read_back.primary_key
    return replace(
        read_back,
        name=table.name,
        primary_key=replace(key, name=rename(key.name)) if key is not None else None,
        indexes=tuple(
            sorted((replace(i, name=rename(i.name)) for i in read_back.indexes), key=by_name)
        ),
        unique=tuple(
            sorted((replace(u, name=rename(u.name)) for u in read_back.unique), key=by_name)
        ),
        checks=tuple(
            sorted((replace(c, name=rename(c.name)) for c in read_back.checks), key=by_name)
        ),
        exclusions=tuple(
            sorted((replace(x, name=rename(x.name)) for x in read_back.exclusions), key=by_name)
        ),
    )


def by_name(item: object) -> bytes:
    """The catalog's order of names (the C collation: UTF-8 bytes)."""
    return str(getattr(item, "name", "")).encode()


def expanded(shapes: Shapes, tables: dict[QualifiedName, Table]) -> dict[QualifiedName, Table]:
    """Every grouped table's read-back, from its representative's."""
    result: dict[QualifiedName, Table] = {}
    grouped: dict[QualifiedName, list[QualifiedName]] = defaultdict(list)
    for name, representative in shapes.stands_for.items():
        grouped[representative].append(name)
    for representative, members in grouped.items():
        read_back = tables.get(representative)
        if read_back is None:
            continue  # missing on the scratch server: the caller reports it
        source = shapes.declared[representative]
        result[representative] = read_back
        checked = False
        for name in members:
            if name == representative:
                continue
            result[name] = renamed(read_back, source, shapes.declared[name])
            if not checked:
                still_named(result[name], source)
                checked = True
    return result


def still_named(table: Table, representative: DeclaredTable) -> None:
    """A renamed read-back must not keep the representative's name anywhere its declaration
    does not (a name PostgreSQL chose from it, in a field this module does not rename)."""
    own = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(representative.name.name)}(?![A-Za-z0-9])")
    if own.search(repr(table)) and not own.search(repr(shape_of(representative))):
        raise ShapeMismatch(f"{table.name} keeps a name of {representative.name}")
