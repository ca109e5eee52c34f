"""What dump cannot write into schema.yaml, named so that nothing is lost in silence."""

from __future__ import annotations

from typing import Any

import psycopg

from mmschema.introspect import catalog_sql
from mmschema.kinds.tables.inheritance import inheritance_pairs
from mmschema.kinds.tables.notnull_names import custom_not_null_names
from mmschema.model import QualifiedName


def inexpressible(conn: psycopg.Connection[Any], names: list[QualifiedName]) -> list[str]:
    """One line per constraint option of these tables the file format cannot declare, and
    one per table of them that inherits (INHERITS)."""
    if not names:
        return []
    rows = conn.execute(
        catalog_sql("inexpressible"),
        {"schemas": [n.schema for n in names], "tables": [n.name for n in names]},
    ).fetchall()
    found = sorted([*rows, *custom_not_null_names(conn, names)])
    lines = [
        f"{QualifiedName(schema, table)}.{constraint}: {what} cannot be declared in "
        "schema.yaml; the dumped file leaves it out (plan and apply would not keep it)"
        for schema, table, constraint, what in found
    ]
    dumped = set(names)
    return lines + [
        f"{child}: INHERITS ({parent}) cannot be declared in schema.yaml (table inheritance); "
        "the dumped file declares the inherited columns as the table's own, and plan refuses "
        "to change a table that inherits or is inherited"
        for child, parent in inheritance_pairs(conn, names)
        if child in dumped
    ]
