"""What the type kinds (domains, composite and range types) share: the table columns that
hold a type's values, the pre-flight count of those a change rejects, keys and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from mmschema.catalogsql import kind_sql
from mmschema.connect import primary_message
from mmschema.ddl.base import create_schema, render
from mmschema.desired.checks import shown
from mmschema.desired.declared import Source
from mmschema.hazards import Hazard
from mmschema.model import QualifiedName
from mmschema.scratch_chunks import ScratchRun

T = TypeVar("T")
# A pre-flight query (read only, on the target): a may_fail hazard when it finds rows.
DataCheck = Callable[[psycopg.Connection[Any]], Hazard | None]


@dataclass(frozen=True)
class ColumnUser:
    """A table (or materialized view) column whose values are of the type."""

    table: QualifiedName
    column: str

    @property
    def label(self) -> str:
        return f"{shown(self.table)}.{shown(QualifiedName('x', self.column)).removeprefix('x.')}"


def column_users(rows: list[list[str]]) -> tuple[ColumnUser, ...]:
    """The columns using a type, as its catalog query lists them: [schema, table, column]."""
    return tuple(ColumnUser(QualifiedName(u[0], u[1]), u[2]) for u in rows)


def users_label(users: Sequence[ColumnUser]) -> str:
    """`column public.t.c`, `columns public.t.a, public.u.b` (five at most named)."""
    shown_users = [u.label for u in users[:5]]
    more = f" and {len(users) - 5} more" if len(users) > 5 else ""
    return ("column " if len(users) == 1 else "columns ") + ", ".join(shown_users) + more


def type_key(name: QualifiedName) -> str:
    """The file key of a type: `name` for public.name, else schema.name."""
    return name.name if name.schema == "public" and "." not in name.name else shown(name)


def spellings(name: QualifiedName) -> set[str]:
    """How a type may be written or printed: `name` (public), `schema.name`."""
    found = {str(name), type_key(name)}
    return found | ({name.name} if name.schema == "public" else set())


def needed_first(items: Sequence[T], named: Callable[[T], QualifiedName],
                 uses: Callable[[T], Iterable[str]]) -> list[T]:
    """The items, each after those of them whose names it `uses` (a domain over another
    declared domain, a composite type with an attribute of another)."""
    by_spelling = {s: i for i, item in enumerate(items) for s in spellings(named(item))}
    ordered: list[T] = []
    done: set[int] = set()

    def visit(i: int, path: frozenset[int]) -> None:
        if i in done or i in path:
            return
        for text in uses(items[i]):
            j = by_spelling.get(text.removesuffix("[]").replace('"', "").strip())
            if j is not None and j != i:
                visit(j, path | {i})
        done.add(i)
        ordered.append(items[i])

    for i in range(len(items)):
        visit(i, frozenset())
    return ordered


def named_pairs(names: Sequence[QualifiedName]) -> dict[str, list[str]]:
    """The catalog queries' parameters naming objects: schemas and names side by side."""
    return {"schemas_named": [n.schema for n in names], "names": [n.name for n in names]}


def offenders(user: ColumnUser, condition: str, what: str) -> DataCheck:
    """may_fail when rows of the column meet `condition` (SQL after the column): how many,
    and the query that lists them. `condition` is mmschema's text around a printed check."""
    column = sql.Identifier(user.column)
    listing = sql.SQL("SELECT * FROM {} WHERE {} {}").format(
        sql.Identifier(user.table.schema, user.table.name), column, sql.SQL(condition)
    )

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        counted = sql.SQL("SELECT count(*) FROM ({}) AS rows").format(listing)
        row = conn.execute(counted).fetchone()
        found = int(row[0]) if row else 0
        if not found:
            return None
        values = "1 value" if found == 1 else f"{found} values"
        detail = f"{values} of {user.label} {'breaks' if found == 1 else 'break'} {what}"
        return Hazard("may_fail", f"{detail}; list them with: {listing.as_string(conn)}")

    return check


def writes_wait(table: QualifiedName, what: str) -> DataCheck:
    """blocking when the table has rows: `what` reads them all under a SHARE lock."""
    query = sql.SQL("SELECT EXISTS (SELECT FROM {})").format(
        sql.Identifier(table.schema, table.name)
    )

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        row = conn.execute(query).fetchone()
        if not (row and row[0]):
            return None
        detail = f"{what} reads every row of {shown(table)} under a SHARE lock: writes wait"
        return Hazard("blocking", detail)

    return check


def type_used(conn: psycopg.Connection[Any], name: QualifiedName) -> bool:
    """Whether anything but its own pieces depends on the type (a column, a routine, another
    type, a view): then it is not offered to --prune."""
    row = conn.execute(kind_sql("type_used"), {"schema": name.schema, "name": name.name})
    found = row.fetchone()
    return bool(found and found[0])


def report_failure(
    run: ScratchRun, source: Source | None, what: str, name: QualifiedName, statement: str
) -> None:
    """Make a declared type again on the scratch server to report why it failed, at its place."""
    conn = run.conn
    try:
        with conn.transaction():
            run.confinement.run(render(create_schema(name.schema)))
            run.confinement.run(statement)
    except pg_errors.OutOfMemory:
        raise
    except psycopg.Error as error:
        run.report(f"{source}: {what}: {primary_message(error)}")
        return
    run.report(f"{source}: {what}: the scratch server could not make it")
