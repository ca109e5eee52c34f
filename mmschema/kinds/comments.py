"""Comments on any kind's objects: the file's field, a bulk read, the COMMENT ON change, dump."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from mmschema import changes as ch
from mmschema.catalogsql import kind_sql
from mmschema.ddl.base import Statement, make_statement, render, statements
from mmschema.locks import Form

# COMMENT ON these takes SHARE UPDATE EXCLUSIVE on the relation (the table a trigger,
# policy or constraint is on); on the others (types, routines, schemas) no table lock.
ON_RELATIONS = frozenset(
    {"table", "view", "materialized view", "sequence", "column", "index", "trigger", "policy"}
    | {"constraint", "foreign table"}
)


@dataclass(frozen=True)
class Declared:
    """A `comment:` as the file gives it: `given` false leaves the live comment alone."""

    text: str | None = None
    given: bool = False

    def wanted(self, live: str | None) -> str | None:
        """The comment the object should have, once the file is applied."""
        return self.text if self.given else live


NOT_GIVEN = Declared()


def declared(spec: Mapping[str, object]) -> Declared:
    """The `comment` field of an entry: a string sets it, null removes it, no key: alone."""
    note = spec.get("comment")
    return Declared(note if isinstance(note, str) else None, "comment" in spec)


@dataclass(frozen=True)
class SetObjectComment(ch.KindChange):
    """COMMENT ON <what> <target> IS '...' (or IS NULL)."""

    what: str  # as COMMENT ON names the sort: "sequence", "domain", "type", "trigger"...
    object_key: str  # as plans name the object
    target: str  # the object as COMMENT ON names it (SQL made with psycopg.sql)
    comment: str | None
    phase: ch.Phase = ch.Phase.COMMENTS

    @property
    def kind_name(self) -> str:
        return f"set_{self.what.replace(' ', '_')}_comment"

    @property
    def subject(self) -> str:
        return self.object_key


def comment_change(
    what: str,
    object_key: str,
    target: sql.Composable,
    old: str | None,
    new: Declared | str | None,
    phase: ch.Phase = ch.Phase.COMMENTS,
) -> list[ch.Change]:
    """The change setting the comment from `old` (the live one; None when just created) to
    `new` (a Declared, or the text itself); nothing when they agree.

    `target` is the object as COMMENT ON names it, e.g. `sql.Identifier(schema, name)` or
    `sql.SQL("{} ON {}").format(sql.Identifier(policy), sql.Identifier(schema, table))`.
    `phase`: after the change that makes the object (COMMENTS runs after the tables; give
    Phase.VIEWS for objects made in that phase, the change then listed after their creation).
    """
    wanted = new.wanted(old) if isinstance(new, Declared) else new
    if wanted == old:
        return []
    return [SetObjectComment(what, object_key, render(target), wanted, phase)]


def comment_statement(what: str, target: sql.Composable, text: str | None) -> Statement:
    """COMMENT ON <WHAT> <target> IS <literal or NULL>, with the lock it takes."""
    literal = sql.Literal(text) if text is not None else sql.SQL("NULL")
    form = Form.COMMENT if what in ON_RELATIONS else Form.COMMENT_OBJECT
    statement = sql.SQL("COMMENT ON {} {} IS {}").format(sql.SQL(what.upper()), target, literal)
    return make_statement(form, statement)


@statements.register
def _(change: SetObjectComment) -> list[Statement]:
    # target: rendered from psycopg.sql parts by comment_change
    return [comment_statement(change.what, sql.SQL(change.target), change.comment)]


def read_comments(
    conn: psycopg.Connection[Any], catalog: str, oids: Sequence[int]
) -> dict[int, str]:
    """The comments of these objects of one catalog ("pg_class", "pg_type", "pg_proc",
    "pg_policy"...), by oid, in one query; an object without one is not in the result."""
    if not oids:
        return {}
    rows = conn.execute(kind_sql("comments"), {"catalog": catalog, "oids": list(oids)}).fetchall()
    return {int(oid): str(text) for oid, text in rows}


def with_comment(document: dict[str, Any], comment: str | None) -> dict[str, Any]:
    """A dumped entry with its `comment` field when the object has one."""
    if comment is not None:
        document["comment"] = comment
    return document


__all__ = [
    "NOT_GIVEN",
    "Declared",
    "SetObjectComment",
    "comment_change",
    "comment_statement",
    "declared",
    "read_comments",
    "with_comment",
]
