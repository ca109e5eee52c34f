"""Objects in the schemas the file manages that it does not declare: listed as unmanaged,
dropped by --prune (tables, views, sequences, routines, types), what depends on them first."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema import history as runlog
from mmschema.catalogsql import catalog_read, kind_sql
from mmschema.ddl.base import Statement, make_statement, qualified, statements
from mmschema.desired.checks import is_system_schema
from mmschema.desired.declared import DesiredState
from mmschema.hazards import Hazard, hazards
from mmschema.kinds.base import Unmanaged
from mmschema.kinds.routine_text import identity_of, routine_key
from mmschema.kinds.tables.changes import DropConstraint
from mmschema.kinds.tables.namespace import taken_names
from mmschema.kinds.typeusers import spellings
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName

# What each sort is dropped with, and in which phase: views before the tables they read,
# tables before the sequences, routines and types their columns and defaults use.
_DROPS: dict[str, tuple[str, Form, ch.Phase]] = {
    "view": ("VIEW", Form.DROP_VIEW, ch.Phase.DROP_UNMANAGED),
    "materialized view": ("MATERIALIZED VIEW", Form.DROP_MATVIEW, ch.Phase.DROP_UNMANAGED),
    "table": ("TABLE", Form.DROP_TABLE, ch.Phase.DROP_TABLES),
    "sequence": ("SEQUENCE", Form.DROP_SEQUENCE, ch.Phase.DROP_SEQUENCES),
    "function": ("FUNCTION", Form.DROP_FUNCTION, ch.Phase.DROP_FUNCTIONS),
    "procedure": ("PROCEDURE", Form.DROP_FUNCTION, ch.Phase.DROP_FUNCTIONS),
    "enum": ("TYPE", Form.DROP_TYPE, ch.Phase.DROP_TYPES),
    "domain": ("DOMAIN", Form.DROP_TYPE, ch.Phase.DROP_TYPES),
    "composite type": ("TYPE", Form.DROP_TYPE, ch.Phase.DROP_TYPES),
    "range type": ("TYPE", Form.DROP_TYPE, ch.Phase.DROP_TYPES),
}
_TYPES = ("enum", "domain", "composite type", "range type")
# What each declared kind is, as _DROPS names the sorts: a live object of another sort
# under a declared name is not the declared one (a view the file declares materialized).
_SORTS = {
    "ManagedView": "view",
    "ManagedMatview": "materialized view",
    "ManagedSequence": "sequence",
    "ManagedDomain": "domain",
    "ManagedComposite": "composite type",
    "ManagedRange": "range type",
}
# Dropped before the declared routines and views are made again (phase DROP_UNMANAGED).
_DROPPED_FIRST = ("view", "materialized view")
_ROUTINES = ("function", "procedure")
# What the file's expressions may call or read by name before the plan makes the caller.
_CALLED = (*_ROUTINES, "sequence")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


@dataclass(frozen=True)
class PruneUndeclared(ch.KindChange):
    """DROP ... IF EXISTS of an object the file does not declare in a schema it manages
    (--prune); IF EXISTS: a table's drop takes its partitions along."""

    what: str  # a key of _DROPS
    name: QualifiedName
    arguments: tuple[str, ...] = ()  # a routine's input argument types, as PostgreSQL prints them
    rows: int | None = None  # a table's or materialized view's estimated rows
    key: str = field(default="", compare=False)  # a routine's `schema.name(types)`
    held: tuple[str, ...] = field(default=(), compare=False)  # its indexes' and sequences'
    early: bool = False  # a name it holds is taken by something the plan makes

    @property
    def phase(self) -> ch.Phase:
        return ch.Phase.FREE_NAMES if self.early else _DROPS[self.what][2]

    @property
    def kind_name(self) -> str:
        return "drop_" + self.what.replace(" ", "_")

    @property
    def subject(self) -> str:
        return self.key or str(self.name)


@dataclass
class _Row:
    sort: str
    oid: int
    schema: str
    name: str
    what: str
    identity: str
    arguments: list[str]
    rows: int | None
    parent: int | None
    held: list[str]
    dependents: list[list[str | None]]  # sort, oid, via, and a relation's schema and name

    @property
    def ident(self) -> tuple[str, int]:
        return (self.sort, self.oid)

    @property
    def qualified(self) -> QualifiedName:
        return QualifiedName(self.schema, self.name)

    @property
    def key(self) -> str:
        if self.what in _ROUTINES:
            return routine_key(self.qualified, identity_of(self.identity, self.what == "procedure"))
        return str(self.qualified)


def managed_schemas(desired: DesiredState) -> list[str]:
    """The schemas the file manages: those `schemas:` keeps, and those of every object it
    declares (tables, enums, views, routines, types...); never mmschema's own nor
    PostgreSQL's."""
    found: set[str] = {t.name.schema for t in desired.tables}
    found |= {e.name.schema for e in desired.enums}
    for item in desired.objects:
        name = getattr(item, "name", None)
        table = getattr(item, "table", None)
        if isinstance(name, QualifiedName):
            found.add(name.schema)
        elif isinstance(table, QualifiedName):
            found.add(table.schema)
        elif type(item).__name__ == "ManagedSchema" and item.state == "present":
            found.add(item.key)
    return sorted(s for s in found - {runlog.SCHEMA} if not is_system_schema(s))


@dataclass
class _Declared:
    """What the file names: objects (a routine by its signature), tables, and the
    (table, "constraint name" | "trigger name" | "policy name") of the parts it keeps."""

    # Each name with the sorts (as _DROPS names them) it is declared as; "*": any.
    names: dict[QualifiedName, set[str]] = field(default_factory=dict)
    routines: set[str] = field(default_factory=set)
    tables: set[QualifiedName] = field(default_factory=set)
    parts: set[tuple[QualifiedName, str]] = field(default_factory=set)
    defaults: dict[QualifiedName, str] = field(default_factory=dict)  # a table's, joined
    # (table, "constraint name") of each declared foreign key: the table it references.
    references: dict[tuple[QualifiedName, str], QualifiedName] = field(default_factory=dict)
    readers: set[QualifiedName] = field(default_factory=set)  # views, materialized views
    # The live routines the file declares, as (sort, oid), and the file's text lowered:
    # what they and the declared views read after the plan is what that text names.
    routines_live: set[tuple[str, int]] = field(default_factory=set)
    text: str = ""


def _declared(desired: DesiredState) -> _Declared:
    found = _Declared()
    for table in desired.tables:
        found.tables.add(table.name)
        if table.renamed_from is not None:
            found.tables.add(table.renamed_from)
        texts = [c.default for c in table.columns if c.default and table.state == "present"]
        found.defaults[table.name] = " ".join(texts)
        for key in table.foreign_keys:  # may be outside
            found.names.setdefault(key.references, set()).add("table")
            found.references[(table.name, f"constraint {key.name}")] = key.references
        for part in (*table.foreign_keys, *table.checks, *table.unique):
            found.parts.add((table.name, f"constraint {getattr(part, 'name', '')}"))
    for name in found.tables:
        found.names.setdefault(name, set()).add("table")
    for enum in desired.enums:
        found.names.setdefault(enum.name, set()).add("enum")
    found.text = desired.text.lower()
    for item in desired.objects:
        if type(item).__name__ == "ManagedRoutine":
            found.routines.add(item.key)
        for attribute in ("name", "renamed_from"):
            value = getattr(item, attribute, None)
            if isinstance(value, QualifiedName):
                what = _SORTS.get(type(item).__name__, "*")
                found.names.setdefault(value, set()).add(what)
                if type(item).__name__ in ("ManagedView", "ManagedMatview"):
                    found.readers.add(value)
        on = getattr(item, "table", None)
        if isinstance(on, QualifiedName):
            sort = type(item).__name__.removeprefix("Managed").lower()
            found.parts.add((on, f"{sort} {getattr(item, 'name', '')}"))
    return found


def _read(
    conn: psycopg.Connection[Any], schemas: Sequence[str], kept: dict[QualifiedName, set[str]]
) -> list[_Row]:
    pairs = [(name, what) for name, whats in kept.items() for what in sorted(whats)]
    params = {
        "schemas": list(schemas),
        "kept_schemas": [n.schema for n, _ in pairs],
        "kept_names": [n.name for n, _ in pairs],
        "kept_whats": [what for _, what in pairs],
    }
    with catalog_read(conn), conn.cursor(row_factory=class_row(_Row)) as cur:
        cur.execute(kind_sql("undeclared"), params)
        return cur.fetchall()


def undeclared_objects(
    conn: psycopg.Connection[Any],
    desired: DesiredState,
    live: Catalog,
    listed: Sequence[Unmanaged],
    types_used: Collection[str] = (),
) -> tuple[Unmanaged, ...]:
    """`listed` (the kinds' unmanaged objects) and after them the objects of the managed
    schemas that the file does not declare and that nothing kept depends on (read only), in
    the order --prune drops them: an object before those it depends on."""
    schemas = managed_schemas(desired)
    if not schemas:
        return tuple(listed)
    declared = _declared(desired)
    cascaded = _cascaded(desired, live)
    read = _read(conn, schemas, declared.names)
    # The file's words (a scan of its whole text) only when something it may call is read.
    words = set(_WORD.findall(desired.text)) if any(r.what in _CALLED for r in read) else set()
    declared.routines_live = {r.ident for r in read if r.key in declared.routines}
    rows = [
        row
        for row in read
        if row.key not in declared.routines
        and str(row.qualified) not in cascaded
        and not (row.what in _TYPES and _named(row.qualified, types_used))
        and not (row.what in _CALLED and _called(row, words, declared))
    ]
    by_ident = {row.ident: row for row in rows}
    pruned = set(by_ident)
    # Partitions go with their parent's drop.
    pruned -= {r.ident for r in rows if r.parent is not None and ("pg_class", r.parent) in pruned}
    changed = True
    while changed:  # an object something kept depends on is kept, and so is what it uses
        changed = False
        for row in rows:
            if row.ident in pruned and any(
                _keeps(dependent, pruned, declared, row) for dependent in row.dependents
            ):
                pruned.discard(row.ident)
                changed = True
    already = {_dropped(u) for u in listed}
    depths: dict[tuple[str, int], int] = {}
    found = [
        Unmanaged(
            row.key,
            f"{row.what} {row.key}",
            _change(row),
            row.qualified if row.what.endswith("view") else None,
            _depth(row.ident, by_ident, pruned, depths),
        )
        for row in rows
        if row.ident in pruned and row.key not in already
    ]
    return (*listed, *sorted(found, key=lambda u: -u.depth))


def _cascaded(desired: DesiredState, live: Catalog) -> set[str]:
    """The views that a drop the file asks for (`state: absent`) takes along (CASCADE)."""
    absent = {(type(o), o.key) for o in desired.objects if o.state == "absent"}
    return {
        str(getattr(reader, "name", ""))
        for o in live.objects
        if (type(o), o.key) in absent
        for reader in getattr(o, "readers", ())
    }


def _called(row: _Row, words: set[str], declared: _Declared) -> bool:
    """Whether the file's text may call it (a trigger's function, a default's sequence, a
    view's or check's function): its name is a word of the file, and no routine the file
    declares has that name (then an old overload it replaces is not kept for it)."""
    if row.what in _ROUTINES and any(k.startswith(_bare(row)) for k in declared.routines):
        return False
    return row.name in words


def _bare(row: _Row) -> str:
    return routine_key(row.qualified, ()).removesuffix("()") + "("


def _named(name: QualifiedName, used: Collection[str]) -> bool:
    return any(spelling.replace('"', "") in used for spelling in spellings(name))


def _keeps(
    dependent: Sequence[str | None], pruned: set[tuple[str, int]], declared: _Declared, row: _Row
) -> bool:
    """Whether a dependent of the object `row` stays after --prune, keeping the object."""
    sort, oid, via, schema, relation = dependent
    name = row.name
    ident = (str(sort), int(str(oid)))
    if ident in pruned:
        return False
    table = QualifiedName(schema, relation) if schema and relation else None
    if row.what not in _DROPPED_FIRST and (
        ident in declared.routines_live or table in declared.readers
    ):
        # A declared routine or view is made as the file says before this drop: it still
        # reads the object only if the file's text names it.
        return name.lower() in declared.text
    if table is None:
        return True  # not a relation: a routine, a type, a cast... that stays
    if table not in declared.tables:
        return True
    # A declared table: the file says what its columns are, and which of its constraints,
    # triggers and policies stay (--prune drops the others first).
    if via == "column type":
        return False
    if via == "default":  # one the file keeps names it
        return name in declared.defaults.get(table, "")
    if via and via.startswith(("constraint ", "trigger ", "policy ")):
        # A foreign key kept under its name but pointing elsewhere is made again.
        referenced = declared.references.get((table, via), row.qualified)
        return (table, via) in declared.parts and referenced == row.qualified
    return True


def _depth(
    ident: tuple[str, int],
    rows: dict[tuple[str, int], _Row],
    pruned: set[tuple[str, int]],
    seen: dict[tuple[str, int], int],
    path: frozenset[tuple[str, int]] = frozenset(),
) -> int:
    """1 + the depth of the deepest pruned object it depends on: dropped before those."""
    if ident in seen:
        return seen[ident]
    uses = [
        other
        for other, row in rows.items()
        if other in pruned
        and other != ident
        and other not in path
        and any((d[0], int(str(d[1]))) == ident for d in row.dependents)
    ]
    depth = 1 + max((_depth(u, rows, pruned, seen, path | {ident}) for u in uses), default=0)
    seen[ident] = depth
    return depth


def _dropped(unmanaged: Unmanaged) -> str:
    """The name of what a kind's unmanaged entry drops, as this module names objects."""
    drop = unmanaged.drop
    for attribute in ("view", "sequence", "domain", "dropped", "routine"):
        item = getattr(drop, attribute, None)
        name = getattr(item, "name", None)
        if isinstance(name, QualifiedName):
            return getattr(item, "key", "") if attribute == "routine" else str(name)
    return unmanaged.key


def _change(row: _Row) -> PruneUndeclared:
    rows = row.rows if row.what in ("table", "materialized view") else None
    key = row.key if row.what in _ROUTINES else ""
    held = tuple(row.held) if row.what == "table" else ()
    return PruneUndeclared(row.what, row.qualified, tuple(row.arguments), rows, key, held)


def pruned_tables_that_make_room(changes: list[ch.Change]) -> list[ch.Change]:
    """Undeclared tables --prune drops, marked early where the plan makes a relation under
    a name the table or one of its indexes or sequences holds; the foreign keys the plan
    drops then go before them (one may reference such a table)."""
    taken: set[QualifiedName] = set()
    for change in changes:
        if not isinstance(change, PruneUndeclared):
            taken |= taken_names(change)
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, PruneUndeclared) and change.what == "table":
            schema = change.name.schema
            held = {change.name} | {QualifiedName(schema, name) for name in change.held}
            if held & taken:
                change = replace(change, early=True)
        result.append(change)
    if any(isinstance(c, PruneUndeclared) and c.early for c in result):
        result = [
            replace(c, before_tables=True)
            if isinstance(c, DropConstraint) and c.kind == "foreign_key"
            else c
            for c in result
        ]
    return result


@statements.register
def _(change: PruneUndeclared) -> list[Statement]:
    word, form, _ = _DROPS[change.what]
    target: sql.Composable = qualified(change.name)
    if change.what in _ROUTINES:
        # The types as PostgreSQL's format_type() printed them.
        types = sql.SQL(", ").join(sql.SQL(t) for t in change.arguments)
        target = sql.SQL("{}({})").format(target, types)
    text = sql.SQL("DROP {} IF EXISTS {}").format(sql.SQL(word), target)
    return [make_statement(form, text)]


@hazards.register
def _(change: PruneUndeclared) -> list[Hazard]:
    rows = f" and its ~{change.rows:,} rows" if change.rows is not None else ""
    what = f"{change.what} {change.subject}{rows}"
    detail = f"drops {what}, which the file does not declare (--prune)"
    return [Hazard("destructive", detail)]
