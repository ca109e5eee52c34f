"""Table inheritance (INHERITS) is not declared by the file: changes to such tables refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from mmschema import changes as ch
from mmschema.catalogsql import table_sql
from mmschema.desired.declared import DesiredState, InvalidFile
from mmschema.kinds.tables import changes as tc
from mmschema.model import QualifiedName


class InheritanceRefusal(InvalidFile):
    """The plan would change a table in an inheritance tree: refused (drift reports it)."""


def inheritance_pairs(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName]
) -> list[tuple[QualifiedName, QualifiedName]]:
    """(child, parent) for each INHERITS link (not a partition's) touching these tables."""
    if not names:
        return []
    params = {"schemas": [n.schema for n in names], "names": [n.name for n in names]}
    rows = conn.execute(table_sql("inheritance"), params).fetchall()
    return [(QualifiedName(r[0], r[1]), QualifiedName(r[2], r[3])) for r in rows]


def _changed_table(change: ch.Change) -> QualifiedName | None:
    """The table a change of the table family alters (the kinds' objects are their own)."""
    if not isinstance(change, tc.TableChange):
        return None
    table = getattr(change, "table", None)
    name = getattr(table, "name", None)
    if isinstance(name, QualifiedName):
        return name  # CreateTable and ReplaceTable carry the table itself
    return table if isinstance(table, QualifiedName) else None


def inheritance_refusals(
    conn: psycopg.Connection[Any], desired: DesiredState, changes: Sequence[ch.Change]
) -> list[str]:
    """'file:line:column: ...' for each declared table the plan would change that inherits
    or is inherited: ALTER TABLE recurses to the inheriting tables and cannot change their
    inherited columns, so such a plan would never converge."""
    touched = {t for t in map(_changed_table, changes) if t is not None}
    if not touched:
        return []
    declared = {t.name: t for t in desired.tables}
    links: dict[QualifiedName, list[str]] = {}
    for child, parent in inheritance_pairs(conn, sorted(touched & set(declared))):
        links.setdefault(child, []).append(f"inherits from {parent}")
        links.setdefault(parent, []).append(f"is inherited by {child}")
    return [
        f"{declared[name].source}: table {name} {', '.join(links[name])} (table inheritance): "
        "mmschema does not change such a table, as the change would not converge; change it "
        "by hand, or move to partitioning (partition_of)"
        for name in sorted(links)
        if name in touched and name in declared
    ]
