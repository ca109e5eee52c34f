"""COMMENT ON CONSTRAINT: the comments the file gives on a table's constraints, set after them."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.kinds import comments
from mmschema.kinds.tables import changes as tc
from mmschema.model import Catalog, QualifiedName


def with_constraint_comments(
    live: Catalog, desired: Catalog, changes: list[ch.Change]
) -> list[ch.Change]:
    """The changes, then a COMMENT ON CONSTRAINT for each comment the file gives that the
    constraint does not have once they ran: a constraint they make (a new table's, one
    added or added again) has none. A constraint without `comment` keeps its own."""
    created, added = _made(changes)
    result = list(changes)
    for name, table in desired.tables.items():
        have = live.tables.get(name)
        current = dict(have.constraint_comments) if have and name not in created else {}
        for constraint, text in table.constraint_comments:
            old = None if constraint in added.get(name, set()) else current.get(constraint)
            target = sql.SQL("{} ON {}").format(
                sql.Identifier(constraint), sql.Identifier(name.schema, name.name)
            )
            result += comments.comment_change(
                "constraint", f"{name}.{constraint}", target, old, text
            )
    return result


def _made(changes: list[ch.Change]) -> tuple[set[QualifiedName], dict[QualifiedName, set[str]]]:
    """The tables the changes create (their constraints all new), and per table the
    constraints they add."""
    created: set[QualifiedName] = set()
    added: dict[QualifiedName, set[str]] = {}
    for change in changes:
        match change:
            case tc.CreateTable(table=table) | tc.ReplaceTable(table=table):
                created.add(table.name)
            case tc.AddPrimaryKey(table=name, key=key) | tc.AddForeignKey(table=name, key=key):
                added.setdefault(name, set()).add(key.name)
            case tc.AddUnique(table=name, constraint=constraint):
                added.setdefault(name, set()).add(constraint.name)
            case tc.AddCheck(table=name, check=check):
                added.setdefault(name, set()).add(check.name)
            case tc.AddExclusion(table=name, exclusion=exclusion):
                added.setdefault(name, set()).add(exclusion.name)
    return created, added
