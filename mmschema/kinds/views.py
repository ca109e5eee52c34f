"""Views: declared under `views:`, compared as pg_get_viewdef prints them, replaced or rebuilt."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import singledispatch
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import catalog_read, kind_sql
from mmschema.ddl.base import (
    Statement,
    comment,
    create_schema,
    make_statement,
    qualified,
    render,
    statements,
)
from mmschema.ddl.views import owner_and_grants
from mmschema.desired.build import Context
from mmschema.desired.checks import shown
from mmschema.desired.declared import Source
from mmschema.desired.sqltext import SqlProblem, check_query
from mmschema.hazards import Hazard, hazards
from mmschema.kinds.base import KindObject, Unmanaged
from mmschema.kinds.rounds import made_in_rounds
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName, View
from mmschema.scratch_chunks import ScratchRun

FILE_KEY = "views"


@dataclass(frozen=True)
class ManagedView:
    """A view the file declares (or its live counterpart): equal when printed the same."""

    name: QualifiedName
    query: str  # pg_get_viewdef() once normalized; the file's text before
    security_barrier: bool = False
    check_option: str | None = None  # "local" | "cascaded"
    security_invoker: bool = False
    comment: str | None = None
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    columns: tuple[str, ...] = field(default=(), compare=False)  # "name type", in order
    reads: tuple[str, ...] = field(default=(), compare=False)  # keys of views it reads
    # Not the file's: a live view's, given again to it when it is dropped and made again.
    owner: str = field(default="", compare=False)
    grants: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (grantee, privilege)
    # deepest first: views, and materialized views (kinds/matviews.py registers those)
    readers: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        return str(self.name)

    @property
    def options(self) -> tuple[str, ...]:
        """Its reloptions as WITH (...) spells them."""
        found = []
        if self.security_barrier:
            found.append("security_barrier=true")
        if self.check_option is not None:
            found.append(f"check_option={self.check_option}")
        if self.security_invoker:
            found.append("security_invoker=true")
        return tuple(found)


@dataclass(frozen=True)
class CreateView(ch.KindChange):
    """CREATE VIEW, or CREATE OR REPLACE VIEW when the live one's columns are only appended to."""

    view: ManagedView
    replace: bool = False
    only_comment: bool = False
    set_comment: bool = False  # the comment changes too (CREATE OR REPLACE keeps it)
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        if self.only_comment:
            return "set_view_comment"
        return "replace_view" if self.replace else "create_view"

    @property
    def subject(self) -> str:
        return str(self.view.name)

    @property
    def makes(self) -> tuple[str, ...]:
        return () if self.only_comment else (self.view.key,)

    @property
    def needs(self) -> tuple[str, ...]:
        return self.view.reads


@dataclass(frozen=True)
class RebuildView(ch.KindChange):
    """DROP VIEW and CREATE VIEW in one transaction (its columns change other than by
    appending), with every view reading it dropped before and created again after."""

    old: ManagedView
    new: ManagedView
    readers: tuple[Any, ...]  # deepest first, each as it will be made again
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "rebuild_view"

    @property
    def subject(self) -> str:
        return str(self.new.name)

    @property
    def makes(self) -> tuple[str, ...]:
        return (self.new.key,)

    @property
    def needs(self) -> tuple[str, ...]:
        return self.new.reads


@dataclass(frozen=True)
class DropView(ch.KindChange):
    """DROP VIEW of a view the file marks `state: absent` (CASCADE to the views reading it)."""

    view: ManagedView
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "drop_view"

    @property
    def subject(self) -> str:
        return str(self.view.name)


@dataclass(frozen=True)
class PruneView(ch.KindChange):
    """DROP [MATERIALIZED] VIEW of one on managed tables that the file does not declare
    (--prune)."""

    view: View
    phase = ch.Phase.DROP_UNMANAGED

    @property
    def kind_name(self) -> str:
        return "drop_materialized_view" if self.view.materialized else "drop_view"

    @property
    def subject(self) -> str:
        return str(self.view.name)


class ViewKind:
    """The views kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedView)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_view(context, key, spec)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        names = [v.name for v in _views(declared)]
        return tuple(read_views(conn, names, [])) if names else ()

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(made_in_rounds(run, [(self, declared)]))

    def scratch_statements(self, item: KindObject) -> list[str]:
        return scratch_statements(item) if isinstance(item, ManagedView) else []

    def described(self, item: KindObject) -> str:
        return f"view {shown(item.name)}" if isinstance(item, ManagedView) else item.key

    def read_back(self, run: ScratchRun, declared: Sequence[KindObject]) -> list[KindObject]:
        return list(read_back(run, list(_views(declared))))

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        return diff_views(list(_views(live)), list(_views(desired)))

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        found = read_views(conn, [], list(schemas))
        if only:
            wanted = set(only)
            found = [v for v in found if {v.name.name, v.key, v.name.schema} & wanted]
        return {view_key(v.name): view_document(v) for v in found}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        """The file section that makes these live views again, with the views reading them."""
        found: dict[str, ManagedView] = {}
        for view in _views(live):
            for one in (view, *view.readers):
                if isinstance(one, ManagedView):
                    found.setdefault(one.key, one)
        return {view_key(v.name): view_document(v) for v in found.values()}

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """The plain views reading the managed tables (the catalog read has them)."""
        return unmanaged_relations(live, materialized=False, skipped=set())


KIND = ViewKind()


def unmanaged_relations(live: Catalog, materialized: bool, skipped: set[str]) -> list[Unmanaged]:
    """The views (or materialized views) reading the managed tables, directly or through
    other views (the catalog read has them), but those `skipped`."""
    return [
        Unmanaged(str(v.name), f"{_what(v)} {v.name}", PruneView(v), v.name, v.level)
        for v in live.views
        if v.materialized == materialized and str(v.name) not in skipped
    ]


def _what(view: View) -> str:
    return "materialized view" if view.materialized else "view"


def _views(objects: Iterable[object]) -> Iterable[ManagedView]:
    return (o for o in objects if isinstance(o, ManagedView))


# --- the file -------------------------------------------------------------------------


def build_view(context: Context, key: str, spec: Mapping[str, object]) -> ManagedView:
    path = (FILE_KEY, key)
    name = context.table_name(path, key, "public", "view")
    state = spec.get("state")
    query = spec.get("query")
    text = ""
    if isinstance(query, str):
        try:
            text = check_query(query).removesuffix(";").strip()
        except SqlProblem as problem:
            context.error((*path, "query"), f"view {shown(name)}: query {problem}")
    options = spec.get("options")
    chosen = options if isinstance(options, dict) else {}
    check_option = chosen.get("check_option")
    note = spec.get("comment")
    return ManagedView(
        name=name,
        query=text,
        security_barrier=chosen.get("security_barrier") is True,
        check_option=check_option if isinstance(check_option, str) else None,
        security_invoker=chosen.get("security_invoker") is True,
        comment=note if isinstance(note, str) else None,
        state=state if isinstance(state, str) else "present",
        source=context.key(path),
    )


# --- the catalog ----------------------------------------------------------------------


@dataclass
class ViewRow:
    schema: str
    name: str
    query: str
    options: list[str]
    comment: str | None
    owner: str
    grants: list[list[str]]
    columns: list[str]
    reads: list[list[str]]
    readers: list[list[str]]


def read_views(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[ManagedView]:
    """The views named and all those of `schemas`, each with the views reading it."""
    with catalog_read(conn):
        rows = _fetch(conn, names, schemas)
        readers = sorted(
            {QualifiedName(s, n) for row in rows for s, n, k in row.readers if k == "v"}
        )
        known = {QualifiedName(row.schema, row.name) for row in rows}
        missing = [r for r in readers if r not in known]
        rows += _fetch(conn, missing, []) if missing else []
    by_name: dict[QualifiedName, Any] = {
        QualifiedName(row.schema, row.name): _from_row(row) for row in rows
    }
    others = sorted({QualifiedName(s, n) for row in rows for s, n, k in row.readers if k != "v"})
    for read_others in OTHER_READERS:
        by_name.update({r.name: replace(r, readers=()) for r in read_others(conn, others)})
    result = []
    for row in rows:
        view = by_name[QualifiedName(row.schema, row.name)]
        if QualifiedName(row.schema, row.name) in known:
            chain = tuple(
                by_name[QualifiedName(s, n)]
                for s, n, _ in row.readers
                if QualifiedName(s, n) in by_name
            )
            result.append(replace(view, readers=chain))
    return result


# How relations of other kinds that read views (materialized views) are read by name,
# dropped and made again around a view's rebuild: their kind module registers them.
OTHER_READERS: list[Callable[[psycopg.Connection[Any], list[QualifiedName]], list[Any]]] = []


@singledispatch
def drop_reader(reader: object) -> Statement:
    raise TypeError(f"no DROP for a reader of type {type(reader).__name__}")


@singledispatch
def make_reader(reader: object) -> list[Statement]:
    raise TypeError(f"no CREATE for a reader of type {type(reader).__name__}")


def _fetch(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[ViewRow]:
    params = {
        "schemas": [n.schema for n in names],
        "names": [n.name for n in names],
        "schemas_all": list(schemas),
    }
    with conn.cursor(row_factory=class_row(ViewRow)) as cur:
        cur.execute(kind_sql("views"), params)
        return cur.fetchall()


def _from_row(row: ViewRow) -> ManagedView:
    options = {key: value for key, _, value in (o.partition("=") for o in row.options)}
    return ManagedView(
        name=QualifiedName(row.schema, row.name),
        query=printed(row.query),
        security_barrier=options.get("security_barrier") in ("true", "on", "1"),
        check_option=options.get("check_option"),
        security_invoker=options.get("security_invoker") in ("true", "on", "1"),
        comment=row.comment,
        owner=row.owner,
        grants=tuple((grantee, privilege) for grantee, privilege in row.grants),
        columns=tuple(row.columns),
        reads=tuple(str(QualifiedName(*r)) for r in row.reads),
    )


def printed(query: str) -> str:
    """pg_get_viewdef's text without its leading blank and trailing semicolon."""
    return query.strip().removesuffix(";").rstrip()


# --- the scratch server ---------------------------------------------------------------


def scratch_statements(view: ManagedView) -> list[str]:
    """What makes the declared view on the scratch server (made in rounds: kinds/rounds.py)."""
    return [
        render(create_schema(view.name.schema)),
        render(create_view(view, replace=False)),
    ]


def read_back(run: ScratchRun, declared: list[ManagedView]) -> list[ManagedView]:
    """The declared views as the scratch server prints them, once all are made."""
    found = {v.key: v for v in read_views(run.conn, [v.name for v in declared], [])}
    return [_declared_as_printed(view, found[view.key]) for view in declared if view.key in found]


def _declared_as_printed(view: ManagedView, printed_view: ManagedView) -> ManagedView:
    return replace(
        printed_view, source=view.source, comment=view.comment, readers=(), owner="", grants=()
    )


# --- the diff -------------------------------------------------------------------------


def diff_views(live: list[ManagedView], desired: list[ManagedView]) -> list[ch.Change]:
    """Drops first (a view before those it reads), then creates and replacements, each
    after the declared views it reads; views the file does not name are left alone."""
    have = {v.key: v for v in live}
    wanted = {v.key: v for v in desired}
    changes: list[ch.Change] = []
    rebuilt: set[str] = set()
    for view in desired:
        old = have.get(view.key)
        if view.state == "absent" and old is not None:
            changes.append(DropView(old))
    creating: list[ch.Change] = []
    for view in reads_first([v for v in desired if v.state == "present"]):
        old = have.get(view.key)
        if view.key in rebuilt:
            continue
        if old is None:
            creating.append(CreateView(view))
        elif old == view:
            continue
        elif _appended(old.columns, view.columns):
            creating.append(CreateView(view, replace=True))
        else:
            readers = tuple(
                _privileges_kept(wanted[r.key], r) if r.key in wanted else r
                for r in old.readers
                if r.key not in wanted or wanted[r.key].state == "present"
            )
            rebuilt.update(r.key for r in readers)
            creating.append(RebuildView(old, _privileges_kept(view, old), readers))
    for change in creating:
        if isinstance(change, CreateView) and change.replace:
            old = have[change.view.key]
            same = (old.query, old.options) == (change.view.query, change.view.options)
            set_comment = old.comment != change.view.comment
            change = CreateView(change.view, True, only_comment=same, set_comment=set_comment)
        changes.append(change)
    return changes


def _privileges_kept(view: ManagedView, live: ManagedView) -> ManagedView:
    """The view as the file wants it, owned and granted as the live one it replaces."""
    return replace(view, owner=live.owner, grants=live.grants)


def _appended(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    return len(new) >= len(old) and new[: len(old)] == old


def reads_first(views: list[ManagedView]) -> list[ManagedView]:
    """The views in their order, but each after the listed views it reads."""
    by_key = {v.key: v for v in views}
    done: dict[str, ManagedView] = {}

    def visit(view: ManagedView, path: frozenset[str]) -> None:
        if view.key in done or view.key in path:
            return
        for read in view.reads:
            if read in by_key:
                visit(by_key[read], path | {view.key})
        done[view.key] = view

    for view in views:
        visit(view, frozenset())
    return list(done.values())


# --- SQL ------------------------------------------------------------------------------


def create_view(view: ManagedView, replace: bool) -> sql.Composable:
    options = (
        sql.SQL(" WITH ({})").format(sql.SQL(", ").join(map(sql.SQL, view.options)))
        if view.options
        else sql.SQL("")
    )
    verb = sql.SQL("CREATE OR REPLACE VIEW" if replace else "CREATE VIEW")
    # The query was parsed as exactly one SELECT (and printed by PostgreSQL when planned).
    return sql.SQL("{} {}{} AS {}").format(verb, qualified(view.name), options, sql.SQL(view.query))


def _made(view: ManagedView, replace: bool, set_comment: bool = False) -> list[Statement]:
    form = Form.REPLACE_VIEW if replace else Form.CREATE_VIEW
    made = [make_statement(form, create_view(view, replace))]
    if set_comment if replace else view.comment is not None:
        made.append(comment("view", view.name, view.name.name, view.comment))
    if not replace:  # CREATE OR REPLACE keeps them
        made += owner_and_grants(view.name, view.owner, view.grants)
    return made


def _drop(view: ManagedView, cascade: bool = False, if_exists: bool = False) -> Statement:
    text = sql.SQL("DROP VIEW {}{}{}").format(
        sql.SQL("IF EXISTS " if if_exists else ""),
        qualified(view.name),
        sql.SQL(" CASCADE" if cascade else ""),
    )
    return make_statement(Form.DROP_VIEW, text)


@statements.register
def _(change: CreateView) -> list[Statement]:
    view = change.view
    if change.only_comment:
        return [comment("view", view.name, view.name.name, view.comment)]
    made = _made(view, change.replace, change.set_comment)
    if not change.replace and view.name.schema != "public":
        made.insert(0, make_statement(Form.CREATE_SCHEMA, create_schema(view.name.schema)))
    return made


@statements.register
def _(change: RebuildView) -> list[Statement]:
    # IF EXISTS: a reader may be gone already (a copy made of the file's tables only).
    result = [drop_reader(reader) for reader in change.readers]
    result.append(_drop(change.old))
    result += _made(change.new, replace=False)
    for reader in reversed(change.readers):
        result += make_reader(reader)
    return result


@drop_reader.register
def _(reader: ManagedView) -> Statement:
    return _drop(reader, if_exists=True)


@make_reader.register
def _(reader: ManagedView) -> list[Statement]:
    return _made(reader, replace=False)


@statements.register
def _(change: DropView) -> list[Statement]:
    return [_drop(change.view, cascade=bool(change.view.readers))]


@statements.register
def _(change: PruneView) -> list[Statement]:
    # IF EXISTS: a rehearsal's copy holds only the file's views.
    what = sql.SQL("MATERIALIZED VIEW" if change.view.materialized else "VIEW")
    text = sql.SQL("DROP {} IF EXISTS {}").format(what, qualified(change.view.name))
    form = Form.DROP_MATVIEW if change.view.materialized else Form.DROP_VIEW
    return [make_statement(form, text)]


@hazards.register
def _(change: PruneView) -> list[Hazard]:
    what = f"{_what(change.view)} {change.view.name}"
    return [Hazard("destructive", f"drops {what}, which the file does not declare (--prune)")]


@hazards.register
def _(change: DropView) -> list[Hazard]:
    readers = change.view.readers
    if not readers:
        return []
    names = ", ".join(str(r.name) for r in readers)
    detail = f"drops view {change.view.name} and the views reading it: {names}"
    return [Hazard("destructive", detail)]


# --- dump -----------------------------------------------------------------------------


def view_key(name: QualifiedName) -> str:
    return name.name if name.schema == "public" and "." not in name.name else shown(name)


def view_document(view: ManagedView) -> dict[str, Any]:
    document: dict[str, Any] = {"query": view.query}
    options: dict[str, Any] = {}
    if view.security_barrier:
        options["security_barrier"] = True
    if view.check_option is not None:
        options["check_option"] = view.check_option
    if view.security_invoker:
        options["security_invoker"] = True
    if options:
        document["options"] = options
    if view.comment is not None:
        document["comment"] = view.comment
    return document


__all__ = ["KIND", "CreateView", "DropView", "ManagedView", "PruneView", "RebuildView"]
