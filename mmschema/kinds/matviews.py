"""Materialized views: declared under `materialized_views:`, compared as pg_get_viewdef prints
them, with their indexes; a changed query rebuilds them and the views reading them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
)
from mmschema.ddl.base import statements as ddl_statements
from mmschema.desired.build import Context, Scope, text_of
from mmschema.desired.checks import shown
from mmschema.desired.declared import Source
from mmschema.desired.sqltext import SqlProblem, check_query, relations_read
from mmschema.hazards import Hazard, hazards
from mmschema.kinds import views
from mmschema.kinds.base import KindObject, Unmanaged
from mmschema.kinds.rounds import made_in_rounds
from mmschema.kinds.tables.declare_columns import declared_index, storage_options
from mmschema.kinds.tables.dump import index_document
from mmschema.kinds.tables.indexes import create_index
from mmschema.kinds.tables.model import Index
from mmschema.kinds.tables.read import read_indexes
from mmschema.kinds.tables.scratch import raw_index
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName
from mmschema.scratch_chunks import ScratchRun
from mmschema.sizes import TableSize

FILE_KEY = "materialized_views"


@dataclass(frozen=True)
class ManagedMatview:
    """A materialized view the file declares (or its live counterpart)."""

    name: QualifiedName
    query: str  # pg_get_viewdef() once normalized; the file's text before
    comment: str | None = None
    with_data: bool = True  # declared: built WITH DATA; live: populated (never compared)
    indexes: tuple[Index, ...] = ()  # declared: those present; live: all of them
    options: tuple[tuple[str, str], ...] = ()  # storage parameters, sorted
    absent_indexes: tuple[str, ...] = ()
    renamed_from: QualifiedName | None = None
    state: str = "present"
    source: Source | None = None
    reads: tuple[str, ...] = ()  # keys of the relations it reads
    readers: tuple[views.ManagedView | ManagedMatview, ...] = ()  # deepest first
    # Not the file's: a live one's, given again to it when it is dropped and made again.
    owner: str = field(default="", compare=False)
    grants: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (grantee, privilege)
    column_names: tuple[str, ...] = field(default=(), compare=False)  # read: its columns

    @property
    def key(self) -> str:
        return str(self.name)

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)


@dataclass(frozen=True)
class SourceSize:
    """A live relation a declared materialized view reads: how big a WITH DATA build gets."""

    name: QualifiedName
    rows: int
    bytes: int
    state: str = "present"

    @property
    def key(self) -> str:
        return f"size of {self.name}"


@dataclass(frozen=True)
class CreateMatview(ch.KindChange):
    """CREATE MATERIALIZED VIEW ... WITH [NO] DATA, its indexes and comment."""

    view: ManagedMatview
    source_rows: TableSize | None = None  # what WITH DATA reads, when that is large
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "create_materialized_view"

    @property
    def makes(self) -> tuple[str, ...]:
        return (self.view.key,)

    @property
    def needs(self) -> tuple[str, ...]:
        return self.view.reads

    @property
    def subject(self) -> str:
        return str(self.view.name)


@dataclass(frozen=True)
class RebuildMatview(ch.KindChange):
    """DROP and CREATE MATERIALIZED VIEW in one transaction (its query changed), with its
    undeclared indexes made again as they were and every view reading it rebuilt."""

    old: ManagedMatview
    new: ManagedMatview
    readers: tuple[views.ManagedView | ManagedMatview, ...]  # deepest first
    source_rows: TableSize | None = None
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "rebuild_materialized_view"

    @property
    def makes(self) -> tuple[str, ...]:
        return (self.new.key,)

    @property
    def needs(self) -> tuple[str, ...]:
        return self.new.reads

    @property
    def subject(self) -> str:
        return str(self.new.name)


@dataclass(frozen=True)
class AlterMatview(ch.KindChange):
    """What changes in place: a rename, indexes dropped and built, the comment."""

    view: ManagedMatview
    renamed_from: QualifiedName | None = None
    drop_indexes: tuple[str, ...] = ()
    create_indexes: tuple[Index, ...] = ()
    set_comment: bool = False
    reset_options: tuple[str, ...] = ()  # storage parameters the file no longer gives
    set_options: tuple[tuple[str, str], ...] = ()
    index_comments: tuple[Index, ...] = ()  # kept indexes whose comment alone changes
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        if self.renamed_from is not None:
            return "rename_materialized_view"
        if self.drop_indexes or self.create_indexes:
            return "change_materialized_view_indexes"
        if self.reset_options or self.set_options:
            return "set_materialized_view_options"
        if self.index_comments and not self.set_comment:
            return "set_materialized_view_index_comment"
        return "set_materialized_view_comment"

    @property
    def subject(self) -> str:
        return str(self.view.name)


@dataclass(frozen=True)
class DropMatview(ch.KindChange):
    """DROP MATERIALIZED VIEW of one the file marks `state: absent` (CASCADE to its readers)."""

    view: ManagedMatview
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "drop_materialized_view"

    @property
    def subject(self) -> str:
        return str(self.view.name)


class MatviewKind:
    """The materialized views kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedMatview | SourceSize)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_matview(context, key, spec)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        mine = list(_matviews(declared))
        names = [v.name for v in mine] + [v.renamed_from for v in mine if v.renamed_from]
        if not names:
            return ()
        return (*read_matviews(conn, names, []), *read_source_sizes(conn, mine))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(made_in_rounds(run, [(self, declared)]))

    def scratch_statements(self, item: KindObject) -> list[str]:
        return scratch_statements(item) if isinstance(item, ManagedMatview) else []

    def described(self, item: KindObject) -> str:
        if isinstance(item, ManagedMatview):
            return f"materialized view {shown(item.name)}"
        return item.key

    def read_back(self, run: ScratchRun, declared: Sequence[KindObject]) -> list[KindObject]:
        return list(read_back(run, list(_matviews(declared))))

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        sizes = [s for s in live if isinstance(s, SourceSize)]
        return diff_matviews(list(_matviews(live)), list(_matviews(desired)), sizes)

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        found = read_matviews(conn, [], list(schemas))
        if only:
            wanted = set(only)
            found = [v for v in found if {v.name.name, v.key, v.name.schema} & wanted]
        return {views.view_key(v.name): matview_document(v) for v in found}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        """The file section that makes these live materialized views again."""
        return {views.view_key(v.name): matview_document(v) for v in _matviews(live)}

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """The materialized views reading the managed tables; not the old names of renames."""
        renamed = {str(v.renamed_from) for v in _matviews(declared) if v.renamed_from}
        return views.unmanaged_relations(live, materialized=True, skipped=renamed)


KIND = MatviewKind()


def _matviews(objects: Iterable[object]) -> Iterable[ManagedMatview]:
    return (o for o in objects if isinstance(o, ManagedMatview))


# --- the file -------------------------------------------------------------------------


def build_matview(context: Context, key: str, spec: Mapping[str, object]) -> ManagedMatview:
    path = (FILE_KEY, key)
    name = context.table_name(path, key, "public", "materialized view")
    state = text_of(spec.get("state")) or "present"
    query = spec.get("query")
    text = ""
    if isinstance(query, str):
        try:
            text = check_query(query).removesuffix(";").strip()
        except SqlProblem as problem:
            context.error((*path, "query"), f"materialized view {shown(name)}: query {problem}")
    scope = Scope(context, name, path, present=False)  # its columns are the query's
    indexes = [
        declared_index(scope, index_name, index_spec)
        for index_name, index_spec in _mapping(spec.get("indexes")).items()
        if isinstance(index_spec, dict)
    ]
    for option in _mapping(spec.get("with")):
        if option.startswith("toast."):
            where = (*path, "with", option)
            context.error(where, f"materialized view {shown(name)}: {option} is not managed")
    old = text_of(spec.get("renamed_from"))
    renamed_from = (
        context.table_name((*path, "renamed_from"), old, name.schema, "renamed_from")
        if old
        else None
    )
    return ManagedMatview(
        name=name,
        query=text,
        comment=text_of(spec.get("comment")),
        with_data=spec.get("with_data") is not False,
        options=storage_options(context, (*path, "with"), spec.get("with")),
        indexes=tuple(raw_index(i) for i in indexes if i.state == "present"),
        absent_indexes=tuple(i.name for i in indexes if i.state != "present"),
        renamed_from=renamed_from,
        state=state,
        source=context.key(path),
    )


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


# --- the catalog ----------------------------------------------------------------------


@dataclass
class MatviewRow:
    schema: str
    name: str
    query: str
    populated: bool
    options: list[str]
    comment: str | None
    owner: str
    grants: list[list[str]]
    column_names: list[str]
    reads: list[list[str]]
    readers: list[list[str]]


@dataclass
class SizeRow:
    schema: str
    name: str
    rows: int
    bytes: int


def read_matviews(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[ManagedMatview]:
    """The materialized views named and all those of `schemas`, each with its indexes and
    the views and materialized views reading it (read only on the target)."""
    with catalog_read(conn):
        rows = _fetch(conn, names, schemas)
        view_names = _readers_of_kind(rows, "v")
        mat_names = _readers_of_kind(rows, "m")
        known = {QualifiedName(r.schema, r.name) for r in rows}
        rows += _fetch(conn, [n for n in mat_names if n not in known], [])
        indexes = _indexes(conn, [QualifiedName(r.schema, r.name) for r in rows])
    reader_views = {v.name: v for v in views.read_views(conn, view_names, [])}
    made = {
        QualifiedName(r.schema, r.name): _from_row(r, indexes.get((r.schema, r.name), ()))
        for r in rows
    }
    result = []
    for row in rows:
        name = QualifiedName(row.schema, row.name)
        if name not in known:
            continue
        chain: list[views.ManagedView | ManagedMatview] = []
        for schema, reader_name, _ in row.readers:
            reader = QualifiedName(schema, reader_name)
            found = reader_views.get(reader) or made.get(reader)
            if found is not None:
                chain.append(replace(found, readers=()))
        result.append(replace(made[name], readers=tuple(chain)))
    return result


def _readers_of_kind(rows: list[MatviewRow], relkind: str) -> list[QualifiedName]:
    return sorted({QualifiedName(s, n) for r in rows for s, n, k in r.readers if k == relkind})


def _fetch(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[MatviewRow]:
    params = {
        "schemas": [n.schema for n in names],
        "names": [n.name for n in names],
        "schemas_all": list(schemas),
    }
    with conn.cursor(row_factory=class_row(MatviewRow)) as cur:
        cur.execute(kind_sql("matviews"), params)
        return cur.fetchall()


def _indexes(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName]
) -> dict[tuple[str, str], tuple[Index, ...]]:
    return {(n.schema, n.name): found for n, found in read_indexes(conn, names).items()}


def _from_row(row: MatviewRow, indexes: tuple[Index, ...]) -> ManagedMatview:
    options = tuple(
        sorted((key, value) for key, _, value in (o.partition("=") for o in row.options))
    )
    return ManagedMatview(
        options=options,
        name=QualifiedName(row.schema, row.name),
        query=views.printed(row.query),
        comment=row.comment,
        with_data=row.populated,
        indexes=indexes,
        owner=row.owner,
        grants=tuple((grantee, privilege) for grantee, privilege in row.grants),
        column_names=tuple(row.column_names),
        reads=tuple(str(QualifiedName(*r)) for r in sorted(row.reads)),
    )


def read_source_sizes(
    conn: psycopg.Connection[Any], declared: Sequence[ManagedMatview]
) -> list[SourceSize]:
    """The target's relations the declared queries name (unqualified: public), with their
    size: a WITH DATA build reads them all."""
    names = sorted(
        {
            QualifiedName(schema or "public", name)
            for view in declared
            if view.state == "present" and view.with_data
            for schema, name in relations_read(view.query)
        }
    )
    if not names:
        return []
    params = {"schemas": [n.schema for n in names], "names": [n.name for n in names]}
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.transaction(), conn.cursor(row_factory=class_row(SizeRow)) as cur:
        if idle:
            cur.execute("SET TRANSACTION READ ONLY")
        cur.execute(kind_sql("relation_sizes"), params)
        rows = cur.fetchall()
    return [SourceSize(QualifiedName(r.schema, r.name), r.rows, r.bytes) for r in rows]


# --- the scratch server ---------------------------------------------------------------


def scratch_statements(view: ManagedMatview) -> list[str]:
    """What makes the declared materialized view on the scratch server: WITH NO DATA (the
    scratch tables are empty), with its indexes (made in rounds: kinds/rounds.py)."""
    made = [render(create_schema(view.name.schema))]
    return made + [s.sql for s in _made(replace(view, with_data=False))]


def read_back(run: ScratchRun, declared: list[ManagedMatview]) -> list[ManagedMatview]:
    """The declared materialized views as the scratch server prints them."""
    found = {v.key: v for v in read_matviews(run.conn, [v.name for v in declared], [])}
    return [
        replace(
            found[view.key],
            source=view.source,
            comment=view.comment,
            indexes=_with_comments(found[view.key].indexes, view.indexes),
            with_data=view.with_data,
            absent_indexes=view.absent_indexes,
            renamed_from=view.renamed_from,
            readers=(),
            owner="",
            grants=(),
        )
        for view in declared
        if view.key in found
    ]


def _with_comments(printed: tuple[Index, ...], declared: tuple[Index, ...]) -> tuple[Index, ...]:
    """The indexes as the scratch server printed them, with the comments the file gives."""
    comments = {i.name: i.comment for i in declared}
    return tuple(replace(i, comment=comments.get(i.name)) for i in printed)


# --- the diff -------------------------------------------------------------------------


def diff_matviews(
    live: list[ManagedMatview], desired: list[ManagedMatview], sizes: list[SourceSize]
) -> list[ch.Change]:
    """Drops first, then renames, creations, rebuilds and index changes, each after the
    declared materialized views it reads; those the file does not name are left alone."""
    have = {v.key: v for v in live}
    changes: list[ch.Change] = []
    for view in desired:
        old = have.get(view.key)
        if view.state == "absent" and old is not None:
            changes.append(DropMatview(old))
    rebuilt: set[str] = set()
    for view in _reads_first([v for v in desired if v.state == "present"]):
        old = have.get(view.key)
        renamed = None
        if old is None and view.renamed_from is not None:
            old = have.get(str(view.renamed_from))
            if old is not None:
                renamed = view.renamed_from
                old = replace(old, name=view.name)
        if old is None:
            changes.append(CreateMatview(view, _large_source(view, sizes)))
            continue
        if view.key in rebuilt:
            continue
        if old.query != view.query:
            if renamed is not None:
                changes.append(AlterMatview(view, renamed_from=renamed))
            readers = tuple(r for r in old.readers if r.key not in rebuilt)
            rebuilt.update(r.key for r in readers)
            changes.append(RebuildMatview(old, view, readers, _large_source(view, sizes)))
            continue
        drops = tuple(
            i.name
            for i in old.indexes
            if i.name in view.absent_indexes or _changed(view.index(i.name), i, missing=False)
        )
        creates = tuple(i for i in view.indexes if _changed(i, old.index(i.name)))
        commented = tuple(
            i
            for i in view.indexes
            if i not in creates and (kept := old.index(i.name)) and kept.comment != i.comment
        )
        set_comment = old.comment != view.comment
        resets = tuple(sorted(dict(old.options).keys() - dict(view.options).keys()))
        sets = tuple(o for o in view.options if o not in old.options)
        if renamed is not None or drops or creates or commented or set_comment or resets or sets:
            changes.append(
                AlterMatview(view, renamed, drops, creates, set_comment, resets, sets, commented)
            )
    return changes


def _changed(one: Index | None, other: Index | None, missing: bool = True) -> bool:
    """Whether both are there and build different indexes (their comments aside), or
    one is missing (then `missing`)."""
    if one is None or other is None:
        return missing
    return replace(one, comment=None) != replace(other, comment=None)


def _large_source(view: ManagedMatview, sizes: list[SourceSize]) -> TableSize | None:
    if not view.with_data:
        return None
    reads = set(view.reads)
    read = [s for s in sizes if str(s.name) in reads]
    total = TableSize(sum(max(s.rows, 0) for s in read), sum(s.bytes for s in read), True)
    return total if total.large else None


def _reads_first(found: list[ManagedMatview]) -> list[ManagedMatview]:
    by_key = {v.key: v for v in found}
    done: dict[str, ManagedMatview] = {}

    def visit(view: ManagedMatview, path: frozenset[str]) -> None:
        if view.key in done or view.key in path:
            return
        for read in view.reads:
            if read in by_key:
                visit(by_key[read], path | {view.key})
        done[view.key] = view

    for view in found:
        visit(view, frozenset())
    return list(done.values())


# --- SQL ------------------------------------------------------------------------------


def _made(view: ManagedMatview, index_form: Form = Form.CREATE_MATVIEW) -> list[Statement]:
    # On a line of its own: the query cannot swallow it, whatever it ends in.
    data = sql.SQL("\nWITH DATA" if view.with_data else "\nWITH NO DATA")
    # The query was parsed as exactly one SELECT (and printed by PostgreSQL when planned).
    create = sql.SQL("CREATE MATERIALIZED VIEW {}{} AS {}{}").format(
        qualified(view.name), _with(view.options), sql.SQL(view.query), data
    )
    made = [make_statement(Form.CREATE_MATVIEW, create)]
    made += [s for index in view.indexes for s in _index(view.name, index, index_form)]
    if view.comment is not None:
        made.append(comment("materialized view", view.name, view.name.name, view.comment))
    return made + _owner_and_grants(view)


def _owner_and_grants(view: ManagedMatview) -> list[Statement]:
    """A materialized view made again gets its owner and the grants it had."""
    made = []
    if view.owner:
        text = sql.SQL("ALTER MATERIALIZED VIEW {} OWNER TO {}").format(
            qualified(view.name), sql.Identifier(view.owner)
        )
        made.append(make_statement(Form.VIEW_PRIVILEGES, text))
    for grantee, privilege in view.grants:
        # grantee: quote_ident() or PUBLIC (then WITH GRANT OPTION if held); privilege:
        # from aclexplode()
        grant = sql.SQL("GRANT {} ON {} TO {}").format(
            sql.SQL(privilege), qualified(view.name), sql.SQL(grantee)
        )
        made.append(make_statement(Form.VIEW_PRIVILEGES, grant))
    return made


def _with(options: tuple[tuple[str, str], ...]) -> sql.Composable:
    return sql.SQL(" WITH ({})").format(_pairs(options)) if options else sql.SQL("")


def _pairs(options: tuple[tuple[str, str], ...]) -> sql.Composable:
    pairs = (sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in options)
    return sql.SQL(", ").join(pairs)


def _index(name: QualifiedName, index: Index, form: Form) -> list[Statement]:
    # On a materialized view being created nobody else reads it yet: the index goes with it.
    made = [Statement(form, create_index(name, index, index.name, concurrently=False).sql)]
    if index.comment is not None:
        made.append(comment("index", name, index.name, index.comment))
    return made


def _drop(view: ManagedMatview, cascade: bool = False, if_exists: bool = False) -> Statement:
    text = sql.SQL("DROP MATERIALIZED VIEW {}{}{}").format(
        sql.SQL("IF EXISTS " if if_exists else ""),
        qualified(view.name),
        sql.SQL(" CASCADE" if cascade else ""),
    )
    return make_statement(Form.DROP_MATVIEW, text)


@views.drop_reader.register
def _(reader: ManagedMatview) -> Statement:
    return _drop(reader, if_exists=True)


@views.make_reader.register
def _(reader: ManagedMatview) -> list[Statement]:
    return _made(reader)


views.OTHER_READERS.append(lambda conn, names: read_matviews(conn, names, []) if names else [])


@ddl_statements.register
def _(change: CreateMatview) -> list[Statement]:
    made = _made(change.view)
    if change.view.name.schema != "public":
        made.insert(0, make_statement(Form.CREATE_SCHEMA, create_schema(change.view.name.schema)))
    return made


@ddl_statements.register
def _(change: RebuildMatview) -> list[Statement]:
    result = [views.drop_reader(reader) for reader in change.readers]
    result.append(_drop(change.old))
    declared = {i.name for i in change.new.indexes} | set(change.new.absent_indexes)
    kept = tuple(i for i in change.old.indexes if i.name not in declared)
    old = change.old
    rebuilt = replace(change.new, indexes=(*change.new.indexes, *kept))
    result += _made(replace(rebuilt, owner=old.owner, grants=old.grants))
    for reader in reversed(change.readers):
        result += views.make_reader(reader)
    return result


@ddl_statements.register
def _(change: AlterMatview) -> list[Statement]:
    view = change.view
    result: list[Statement] = []
    if change.renamed_from is not None:
        old = change.renamed_from
        if old.schema != view.name.schema:
            moved = sql.SQL("ALTER MATERIALIZED VIEW {} SET SCHEMA {}").format(
                qualified(old), sql.Identifier(view.name.schema)
            )
            result.append(make_statement(Form.RENAME_MATVIEW, moved))
            old = QualifiedName(view.name.schema, old.name)
        if old.name != view.name.name:
            renamed = sql.SQL("ALTER MATERIALIZED VIEW {} RENAME TO {}").format(
                qualified(old), sql.Identifier(view.name.name)
            )
            result.append(make_statement(Form.RENAME_MATVIEW, renamed))
    for name in change.drop_indexes:
        drop = sql.SQL("DROP INDEX {}").format(sql.Identifier(view.name.schema, name))
        result.append(make_statement(Form.DROP_INDEX, drop))
    for index in change.create_indexes:
        result += _index(view.name, index, Form.CREATE_INDEX)
    for index in change.index_comments:
        result.append(comment("index", view.name, index.name, index.comment))
    if change.reset_options:
        names = sql.SQL(", ").join(map(sql.Identifier, change.reset_options))
        text = sql.SQL("ALTER MATERIALIZED VIEW {} RESET ({})").format(qualified(view.name), names)
        result.append(make_statement(Form.MATVIEW_OPTIONS, text))
    if change.set_options:
        text = sql.SQL("ALTER MATERIALIZED VIEW {} SET ({})").format(
            qualified(view.name), _pairs(change.set_options)
        )
        result.append(make_statement(Form.MATVIEW_OPTIONS, text))
    if change.set_comment:
        result.append(comment("materialized view", view.name, view.name.name, view.comment))
    return result


@ddl_statements.register
def _(change: DropMatview) -> list[Statement]:
    return [_drop(change.view, cascade=bool(change.view.readers))]


@hazards.register
def _(change: DropMatview) -> list[Hazard]:
    readers = change.view.readers
    if not readers:
        return []
    names = ", ".join(str(r.name) for r in readers)
    detail = f"drops materialized view {change.view.name} and the views reading it: {names}"
    return [Hazard("destructive", detail)]


@hazards.register
def _(change: CreateMatview) -> list[Hazard]:
    return _build_hazard(change.view, change.source_rows)


@hazards.register
def _(change: RebuildMatview) -> list[Hazard]:
    return _build_hazard(change.new, change.source_rows)


def _build_hazard(view: ManagedMatview, size: TableSize | None) -> list[Hazard]:
    if size is None:
        return []
    detail = (
        f"building materialized view {view.name} WITH DATA runs its query over "
        f"{size.describe()} of tables"
    )
    return [Hazard("long_running", detail)]


# --- dump -----------------------------------------------------------------------------


def _option_value(text: str) -> str | int | bool:
    if text in ("true", "false"):
        return text == "true"
    return int(text) if text.isdigit() else text


def matview_document(view: ManagedMatview) -> dict[str, Any]:
    document: dict[str, Any] = {"query": view.query}
    if not view.with_data:
        document["with_data"] = False
    if view.options:
        document["with"] = {key: _option_value(value) for key, value in view.options}
    if view.indexes:
        document["indexes"] = {i.name: index_document(i) for i in view.indexes}
    if view.comment is not None:
        document["comment"] = view.comment
    return document


__all__ = ["KIND", "AlterMatview", "CreateMatview", "DropMatview", "ManagedMatview"]
