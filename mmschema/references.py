"""At plan time, the foreign keys to tables the file does not declare, checked on the target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from mmschema.desired.checks import shown
from mmschema.desired.declared import DeclaredForeignKey, DeclaredTable, DesiredState
from mmschema.desired.typecategory import can_reference
from mmschema.introspect import catalog_sql
from mmschema.model import Catalog, QualifiedName


@dataclass(frozen=True)
class _Target:
    schema_exists: bool
    exists: bool
    columns: dict[str, str]  # name: format_type()
    unique: list[list[str]]  # column sets of unique, non-partial indexes
    primary_key: list[str]


def outside_reference_problems(
    conn: psycopg.Connection[Any], desired: DesiredState, wanted: Catalog
) -> list[str]:
    """'file:line:column: ...' for each foreign key the target cannot take as declared."""
    declared = {t.name for t in desired.tables}
    keys = [
        (table, key)
        for table in desired.present_tables()
        for key in table.foreign_keys
        if key.references not in declared
    ]
    if not keys:
        return []
    targets = _read_targets(conn, sorted({key.references for _, key in keys}))
    problems: list[str] = []
    for table, key in keys:
        problem = _problem(table, key, targets[key.references], wanted)
        if problem is not None:
            problems.append(f"{key.source}: {problem}")
    return problems


def _read_targets(
    conn: psycopg.Connection[Any], names: list[QualifiedName]
) -> dict[QualifiedName, _Target]:
    rows = conn.execute(
        catalog_sql("reference_targets"),
        {"schemas": [n.schema for n in names], "tables": [n.name for n in names]},
    ).fetchall()
    return {
        QualifiedName(schema, name): _Target(
            schema_exists,
            exists,
            {c: t for c, t in columns},
            [list(cols) for _, cols in unique],
            next((list(cols) for primary, cols in unique if primary), []),
        )
        for schema, name, schema_exists, exists, columns, unique in rows
    }


def _problem(
    table: DeclaredTable, key: DeclaredForeignKey, target: _Target, wanted: Catalog
) -> str | None:
    name = shown(key.references)
    what = f"foreign key '{key.name}' references table {name}"
    if not target.schema_exists:
        return (
            f"{what}, but schema {key.references.schema} is neither in the file nor in the "
            "database"
        )
    if not target.exists:
        return f"{what}, which the file does not declare and the database does not have"
    referenced = list(key.referenced_columns) or target.primary_key
    if not referenced:
        return f"{what} without columns, but that table has no primary key"
    missing = [c for c in referenced if c not in target.columns]
    if missing:
        return f"{what}, which has no column '{missing[0]}' in the database"
    if len(referenced) != len(key.columns):
        return (
            f"foreign key '{key.name}' has {len(key.columns)} columns but references "
            f"{len(referenced)} of table {name}"
        )
    if not any(set(u) == set(referenced) for u in target.unique):
        return (
            f"{what} ({', '.join(referenced)}), which no primary key or unique index (without "
            "WHERE) of that table covers exactly in the database"
        )
    own = wanted.tables.get(table.name)
    types = {c.name: c.type for c in own.columns} if own is not None else {}
    for mine, theirs in zip(key.columns, referenced, strict=True):
        if mine in types and not can_reference(types[mine], target.columns[theirs]):
            return (
                f"foreign key '{key.name}': column '{mine}' ({types[mine]}) cannot reference "
                f"column '{theirs}' ({target.columns[theirs]}) of table {name}: no implicit "
                "cast joins these types"
            )
    return None
