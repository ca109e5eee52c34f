"""Functions and procedures: declared under `functions:` and `procedures:`, compared as
pg_get_functiondef prints them, replaced in place or dropped and created with their users.

One module for both kinds: a procedure is a routine of the same catalog (pg_proc), printed
by the same pg_get_functiondef and made by the same statements; only its file key, the
fields it may carry and its identity (OUT arguments count) differ."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import kind_sql
from mmschema.connect import primary_message
from mmschema.ddl.base import Statement, comment, create_schema, make_statement, statements
from mmschema.ddl.views import owner_and_grants
from mmschema.desired.build import Context
from mmschema.desired.checks import shown
from mmschema.desired.declared import Source
from mmschema.hazards import Hazard, hazards
from mmschema.kinds import views
from mmschema.kinds.base import KindObject, Unmanaged
from mmschema.kinds.routine_text import (
    Declared,
    Signature,
    SqlProblem,
    from_definition,
    from_fields,
    identity_of,
    parse_signature,
    routine_key,
    sql_name,
)
from mmschema.kinds.tables import column_changes as cc
from mmschema.locks import Form
from mmschema.model import Catalog, ColumnReader, QualifiedName
from mmschema.scratch_chunks import ScratchRun
from mmschema.scratch_steps import ScratchStep

# What uses a function and can be dropped and made again around it, in that order.
_REBUILT = ("view", "index", "check", "constraint", "default")
# Users whose rows were computed with the function: replacing it may leave them stale.
_ROW_USERS = ("index", "check", "constraint", "generated")
# The fields a whole `definition` stands for.
_FIELDS = {"returns", "language", "body", "volatility", "strict", "security_definer"}
_FIELDS |= {"leakproof", "parallel", "cost", "rows", "set"}
# Users that belong to tables: the routine is made before the tables.
_TABLE_USERS = ("default", "generated", "check", "constraint", "index")
# Users PostgreSQL has to drop with the function, and mmschema cannot make again.
_BLOCKING = ("generated", "materialized view", "trigger", "policy", "routine", "relation")


@dataclass(frozen=True)
class User:
    """An object that calls a routine (pg_depend): a view, default, check, index..."""

    kind: str
    schema: str
    table: str | None
    name: str
    definition: str | None  # what makes it again (defaults, constraints, indexes)

    @property
    def label(self) -> str:
        what = "generated column" if self.kind == "generated" else self.kind
        if self.kind == "routine":
            return f"{what} {self.name}"
        where = shown(QualifiedName(self.schema, self.table or self.name))
        if self.table is None or self.kind == "index":
            return f"{what} {shown(QualifiedName(self.schema, self.name))}"
        return f"{what} {where}.{shown_name(self.name)}"


def shown_name(part: str) -> str:
    return shown(QualifiedName("x", part)).removeprefix("x.")


@dataclass(frozen=True)
class ManagedRoutine:
    """A function or procedure the file declares (or its live counterpart): equal when
    pg_get_functiondef prints it the same and its comment is the same."""

    name: QualifiedName
    identity: tuple[str, ...]  # argument types, as routine_text prints them
    procedure: bool
    definition: str  # pg_get_functiondef() once normalized; the declared statement before
    comment: str | None = None
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    arguments: str = field(default="", compare=False)  # pg_get_function_arguments()
    result: str | None = field(default=None, compare=False)  # pg_get_function_result()
    reads_tables: bool = field(default=False, compare=False)  # or a table's row type
    # Not the file's: a live routine's, given again to it when it is dropped and made again.
    owner: str = field(default="", compare=False)
    grants: tuple[tuple[str, str], ...] | None = field(default=None, compare=False)  # None: default
    users: tuple[User, ...] = field(default=(), compare=False)
    user_views: tuple[views.ManagedView, ...] = field(default=(), compare=False)  # deepest first

    @property
    def key(self) -> str:
        return routine_key(self.name, self.identity)

    @property
    def word(self) -> str:
        return "procedure" if self.procedure else "function"

    @property
    def called_by_tables(self) -> bool:
        return any(u.kind in _TABLE_USERS for u in self.users)


def signature_sql(routine: ManagedRoutine) -> sql.Composable:
    """`schema.name(types)`, as DROP and COMMENT name one routine."""
    # The types were parsed as types and printed by pglast.
    types = sql.SQL(", ").join(sql.SQL(t) for t in routine.identity)
    return sql.SQL("{}({})").format(sql.Identifier(routine.name.schema, routine.name.name), types)


# --- the changes ----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRoutine(ch.KindChange):
    """CREATE FUNCTION (or PROCEDURE); CREATE OR REPLACE when the live one keeps its
    arguments and result; only COMMENT ON when that is all that differs."""

    routine: ManagedRoutine
    replace: bool = False
    only_comment: bool = False
    old: ManagedRoutine | None = None
    phase: ch.Phase = ch.Phase.FUNCTIONS

    @property
    def kind_name(self) -> str:
        if self.only_comment:
            return f"set_{self.routine.word}_comment"
        return f"{'replace' if self.replace else 'create'}_{self.routine.word}"

    @property
    def subject(self) -> str:
        return self.routine.key

    @property
    def needs(self) -> tuple[str, ...]:
        return type_names(self.routine)


@dataclass(frozen=True)
class RebuildRoutine(ch.KindChange):
    """DROP and CREATE in one transaction (its arguments or result change), with the views,
    defaults, checks and indexes that call it dropped before and made again after."""

    old: ManagedRoutine
    new: ManagedRoutine
    phase: ch.Phase = ch.Phase.FUNCTIONS

    @property
    def kind_name(self) -> str:
        return f"rebuild_{self.new.word}"

    @property
    def subject(self) -> str:
        return self.new.key

    @property
    def needs(self) -> tuple[str, ...]:
        return type_names(self.new)


@dataclass(frozen=True)
class DropRoutine(ch.KindChange):
    """DROP FUNCTION (or PROCEDURE) of one the file marks `state: absent`; CASCADE to its users."""

    routine: ManagedRoutine
    phase: ch.Phase = ch.Phase.DROP_FUNCTIONS
    # Whether the file declares every view calling it (directly or through other views):
    # then none is lost. Those the file changes no longer call it once changed; if some
    # are unchanged, all are dropped before it and made again after, as declared (an
    # overload that replaces it is what they call then): `remade`.
    views_declared: bool = False
    remade: tuple[views.ManagedView, ...] = ()

    @property
    def kind_name(self) -> str:
        return f"drop_{self.routine.word}"

    @property
    def subject(self) -> str:
        return self.routine.key


# --- the kinds ------------------------------------------------------------------------


class RoutineKind:
    """The functions kind or the procedures kind, as the pipeline sees it."""

    def __init__(self, file_key: str, procedure: bool) -> None:
        self.file_key = file_key
        self.procedure = procedure

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedRoutine) and item.procedure == self.procedure

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_routine(context, self.file_key, key, spec, self.procedure)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        names = sorted({r.name for r in _routines(declared)})
        if not names:
            return ()
        found = [r for r in read_routines(conn, names, []) if r.procedure == self.procedure]
        return tuple(with_user_views(conn, found))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(normalize_routines(run, list(_routines(declared))))

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        return diff_routines(list(_routines(live)), list(_routines(desired)))

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        rows = [r for r in _read_rows(conn, [], list(schemas)) if r.procedure == self.procedure]
        if only:
            wanted = set(only)
            rows = [r for r in rows if {r.name, f"{r.schema}.{r.name}", r.schema} & wanted]
        return {dump_key(row): row_document(row) for row in rows if not _own(row)}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        """The file section that makes these live routines again (a rehearsal's copy)."""
        return {r.key: definition_document(r) for r in _routines(live)}

    def scratch_preamble(self, declared: Sequence[KindObject]) -> list[ScratchStep]:
        return preamble_steps(list(_routines(declared)))

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        return []  # not reported yet: the routines that managed tables call


FUNCTIONS = RoutineKind("functions", procedure=False)
PROCEDURES = RoutineKind("procedures", procedure=True)


def _routines(objects: Iterable[object]) -> Iterable[ManagedRoutine]:
    return (o for o in objects if isinstance(o, ManagedRoutine))


# --- the file -------------------------------------------------------------------------


def build_routine(
    context: Context, file_key: str, key: str, spec: Mapping[str, object], procedure: bool
) -> ManagedRoutine:
    path = (file_key, key)
    word = "procedure" if procedure else "function"
    try:
        signature = parse_signature(key, procedure)
    except SqlProblem as error:
        context.key_error(path, f"{word} {key!r}: the key {error}")
        return ManagedRoutine(QualifiedName("public", key), (), procedure, "")
    source = context.key(path)
    state = spec.get("state")
    note = spec.get("comment")
    routine = ManagedRoutine(
        name=signature.name,
        identity=signature.identity,
        procedure=procedure,
        definition="",
        comment=note if isinstance(note, str) else None,
        state=state if isinstance(state, str) else "present",
        source=source,
    )
    if routine.state == "absent":
        return routine
    declared = _declared(context, path, signature, spec, procedure)
    return replace(routine, definition=declared.text) if declared else routine


def _declared(
    context: Context,
    path: tuple[str, str],
    signature: Signature,
    spec: Mapping[str, object],
    procedure: bool,
) -> Declared | None:
    word = "procedure" if procedure else "function"
    label = f"{word} {signature.key}"
    definition = spec.get("definition")
    fields = sorted(set(spec) & _FIELDS)
    if isinstance(definition, str) and fields:
        first = (*path, fields[0])
        context.error(first, f"{label}: {', '.join(fields)} cannot go with a whole definition")
        return None
    if "definition" in spec and not isinstance(definition, str):
        return None  # the JSON Schema check reports it; the fields are not the routine
    if isinstance(definition, str):
        try:
            declared = from_definition(definition, procedure)
        except SqlProblem as problem:
            context.error((*path, "definition"), f"{label}: definition {problem}")
            return None
        made = declared.signature
        if (made.name, made.identity) != (signature.name, signature.identity):
            context.error(
                (*path, "definition"),
                f"{label}: definition creates {made.key}, not the {word} its key names",
            )
            return None
        return declared
    made_declared, problems = from_fields(signature, spec, procedure)
    for where, text in problems:
        context.error((*path, where) if where in spec else path, f"{label}: {where} {text}")
    return made_declared


# --- the catalog ----------------------------------------------------------------------


@dataclass
class RoutineRow:
    schema: str
    name: str
    procedure: bool
    identity: str
    arguments: str
    result: str | None
    definition: str
    comment: str | None
    owner: str
    own_grants: bool
    grants: list[list[str]]
    language: str
    body: str
    atomic: bool
    volatility: str
    strict: bool
    security_definer: bool
    leakproof: bool
    parallel: str
    cost: float
    rows: float
    returns_set: bool
    config: list[str]
    reads_tables: bool
    users: list[list[str | None]]


def _read_rows(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[RoutineRow]:
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    params = {
        "schemas": [n.schema for n in names],
        "names": [n.name for n in names],
        "schemas_all": list(schemas),
    }
    with conn.transaction():
        if idle:  # the target's: only read
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT current_setting('search_path')").fetchone()
        conn.execute("SET LOCAL search_path = pg_catalog")
        with conn.cursor(row_factory=class_row(RoutineRow)) as cur:
            cur.execute(kind_sql("functions"), params)
            found = cur.fetchall()
        # A savepoint keeps SET LOCAL: the scratch transaction goes on with its own path.
        conn.execute("SELECT set_config('search_path', %s, true)", (row[0] if row else "",))
        return found


def read_routines(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[ManagedRoutine]:
    """Every overload of the routines named, and all those of `schemas`, with their users."""
    return [_from_row(row) for row in _read_rows(conn, names, schemas)]


def _from_row(row: RoutineRow) -> ManagedRoutine:
    users = tuple(User(str(u[0]), str(u[1]), u[2], str(u[3]), u[4]) for u in row.users)
    return ManagedRoutine(
        name=QualifiedName(row.schema, row.name),
        identity=identity_of(row.identity, row.procedure),
        procedure=row.procedure,
        definition=printed(row.definition),
        comment=row.comment,
        arguments=row.arguments,
        result=row.result,
        reads_tables=row.reads_tables,
        users=users,
        owner=row.owner,
        grants=tuple((g, p) for g, p in row.grants) if row.own_grants else None,
    )


def printed(definition: str) -> str:
    """pg_get_functiondef's text without its trailing newline."""
    return definition.strip()


def with_user_views(
    conn: psycopg.Connection[Any], routines: list[ManagedRoutine]
) -> list[ManagedRoutine]:
    """The routines, each with the views that call it and the views reading those, as
    they are, deepest first (what a rebuild drops and makes again)."""
    names = sorted(
        {QualifiedName(u.schema, u.name) for r in routines for u in r.users if u.kind == "view"}
    )
    if not names:
        return routines
    by_name = {v.name: v for v in views.read_views(conn, names, [])}
    result = []
    for routine in routines:
        chain: dict[str, views.ManagedView] = {}
        for user in routine.users:
            view = by_name.get(QualifiedName(user.schema, user.name))
            if user.kind == "view" and view is not None:
                for one in (*view.readers, view):
                    chain.setdefault(one.key, one)
        deepest_first = sorted(chain.values(), key=lambda v: _depth(v, chain), reverse=True)
        result.append(replace(routine, user_views=tuple(deepest_first)))
    return result


def _depth(view: views.ManagedView, chain: Mapping[str, views.ManagedView]) -> int:
    """How many views of the chain this one reads through (0: it reads none of them)."""
    seen: set[str] = set()

    def walk(one: views.ManagedView) -> int:
        if one.key in seen:
            return 0
        seen.add(one.key)
        found = [walk(chain[r]) + 1 for r in one.reads if r in chain]
        return max(found, default=0)

    return walk(view)


def _own(row: RoutineRow) -> bool:
    """mmschema's own routines (an online type change's sync trigger functions)."""
    return row.name.startswith("_mmschema")


# --- the scratch server ---------------------------------------------------------------


def replacing_text(routine: ManagedRoutine) -> str:
    """The declared statement as CREATE OR REPLACE (the scratch server may hold it already)."""
    try:
        statement = parse_sql(routine.definition)[0].stmt
    except ParseError:  # checked when the file was read
        return routine.definition
    if not isinstance(statement, ast.CreateFunctionStmt) or statement.replace:
        return routine.definition
    statement.replace = True
    return str(RawStream()(statement))


def preamble_steps(declared: list[ManagedRoutine]) -> list[ScratchStep]:
    """The declared functions, on the scratch server before any table: defaults, checks,
    indexes and generated columns may call them. Bodies are not checked yet (the tables
    they read come later); a failure is the routine's normalization's to report."""
    present = [r for r in declared if r.state == "present" and r.definition]
    if not present:
        return []
    steps = [ScratchStep("SET LOCAL check_function_bodies = off", "functions", optional=True)]
    for routine in present:
        where = f"{routine.source}: {routine.word} {routine.key}"
        schema = create_schema(routine.name.schema).as_string(None)
        drop = sql.SQL("DROP ROUTINE IF EXISTS {} CASCADE").format(signature_sql(routine))
        steps.append(ScratchStep(schema, where, optional=True))
        steps.append(ScratchStep(drop.as_string(None), where, optional=True))
        steps.append(ScratchStep(replacing_text(routine), where, optional=True))
    steps.append(ScratchStep("SET LOCAL check_function_bodies = on", "functions", optional=True))
    return steps


def typed_steps(declared: list[ManagedRoutine], types: Iterable[str]) -> list[ScratchStep]:
    """The declared routines whose text names one of these declared types, made again once
    the types exist (before them, in the preamble, their arguments or result failed)."""
    words = {t.replace('"', "") for t in types}
    naming = [
        r
        for r in declared
        if r.state == "present" and r.definition and words & _words(r.definition)
    ]
    if not naming:
        return []
    steps = [ScratchStep("SET LOCAL check_function_bodies = off", "functions", optional=True)]
    for routine in naming:
        where = f"{routine.source}: {routine.word} {routine.key}"
        steps.append(ScratchStep(replacing_text(routine), where, optional=True))
    steps.append(ScratchStep("SET LOCAL check_function_bodies = on", "functions", optional=True))
    return steps


def _words(text: str) -> set[str]:
    """The names a routine's text may write a type as: `name`, `schema.name`."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*(?:[.][A-Za-z_][A-Za-z0-9_$]*)?", text))


def type_names(routine: ManagedRoutine) -> tuple[str, ...]:
    """The types its arguments and result are written with, as the kinds' `makes` name
    them (`amount` for public.amount): a change making one of them comes first."""
    written = [*routine.identity, *(routine.result or "").removeprefix("SETOF ").split(",")]
    found = []
    for text in written:
        name = text.replace('"', "").removesuffix("[]").strip().removeprefix("public.")
        if name:
            found.append(name)
    return tuple(found)


def normalize_routines(run: ScratchRun, declared: list[ManagedRoutine]) -> list[ManagedRoutine]:
    """The declared routines as PostgreSQL prints them: made (again) on the scratch server
    with their bodies checked, now that the file's tables exist, then read back."""
    pending = [r for r in declared if r.state == "present" and r.definition]
    if not pending:
        return []
    conn = run.conn
    conn.execute("SET LOCAL check_function_bodies = on")
    for schema in sorted({r.name.schema for r in pending}):
        run.confinement.run(create_schema(schema).as_string(conn))
    failures: dict[str, str] = {}
    while pending:  # in rounds: a routine may call one declared later
        left: list[ManagedRoutine] = []
        for routine in pending:
            try:
                with conn.transaction():
                    run.confinement.run(replacing_text(routine))
            except pg_errors.OutOfMemory:
                raise
            except psycopg.Error as error:
                failures[routine.key] = primary_message(error)
                left.append(routine)
        if len(left) == len(pending):
            break
        pending = left
    else:
        left = []
    for routine in left:
        run.report(f"{routine.source}: {routine.word} {routine.key}: {failures[routine.key]}")
    if left:
        return []
    names = sorted({r.name for r in declared if r.state == "present"})
    found = {r.key: r for r in read_routines(conn, names, [])}
    result = []
    for routine in declared:
        made = found.get(routine.key)
        if routine.state != "present" or made is None:
            continue
        result.append(
            replace(
                made,
                source=routine.source,
                comment=routine.comment,
                user_views=(),
                users=tuple(u for u in made.users if u.kind != "routine"),
            )
        )
    return result


# --- the diff -------------------------------------------------------------------------


def diff_routines(live: list[ManagedRoutine], desired: list[ManagedRoutine]) -> list[ch.Change]:
    """Each declared routine against the live one of the same name and argument types;
    routines the file does not name are left alone."""
    have = {r.key: r for r in live}
    changes: list[ch.Change] = []
    for routine in calls_first(desired):
        old = have.get(routine.key)
        if routine.state == "absent":
            if old is not None:
                changes.append(DropRoutine(old))
            continue
        phase = _phase(routine, old)
        if old is None:
            changes.append(CreateRoutine(routine, phase=phase))
        elif old == routine:
            continue
        elif old.definition == routine.definition and old.procedure == routine.procedure:
            changes.append(CreateRoutine(routine, True, only_comment=True, old=old, phase=phase))
        elif _replaceable(old, routine):
            changes.append(CreateRoutine(routine, True, old=old, phase=phase))
        else:
            changes.append(RebuildRoutine(old, routine, phase=phase))
    return changes


def calls_first(routines: list[ManagedRoutine]) -> list[ManagedRoutine]:
    """The routines in their order, but each after the declared ones its text calls (an
    SQL body is checked when created: what it calls must exist). PostgreSQL records no
    dependency for a body in quotes, so a call is a name followed by `(` in the text."""
    by_name: dict[str, list[ManagedRoutine]] = {}
    for routine in routines:
        by_name.setdefault(routine.name.name.lower(), []).append(routine)
    done: dict[str, ManagedRoutine] = {}

    def visit(routine: ManagedRoutine, path: frozenset[str]) -> None:
        if routine.key in done or routine.key in path:
            return
        for name in _CALL.findall(_body_of(routine.definition)):
            for called in by_name.get(name.strip('"').lower(), ()):
                if called.key != routine.key:
                    visit(called, path | {routine.key})
        done[routine.key] = routine

    for routine in routines:
        visit(routine, frozenset())
    return list(done.values())


_CALL = re.compile(r'("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*\(')


def _body_of(definition: str) -> str:
    """The text after its own name (argument defaults may call functions too)."""
    return definition.partition("(")[2]


def _phase(routine: ManagedRoutine, old: ManagedRoutine | None) -> ch.Phase:
    """Before the tables when their defaults, checks, indexes or generated columns call it
    (and it reads no table itself); else after every table change, before the views."""
    called = routine.called_by_tables or (old is not None and old.called_by_tables)
    if called and not routine.reads_tables:
        return ch.Phase.FUNCTIONS
    return ch.Phase.LATE_FUNCTIONS


def _replaceable(old: ManagedRoutine, new: ManagedRoutine) -> bool:
    """CREATE OR REPLACE keeps a routine's kind, argument names and result type."""
    same = (old.procedure, old.arguments, old.result) == (new.procedure, new.arguments, new.result)
    return same


# --- SQL ------------------------------------------------------------------------------


def _comment(routine: ManagedRoutine) -> Statement:
    literal = sql.Literal(routine.comment) if routine.comment is not None else sql.SQL("NULL")
    text = sql.SQL("COMMENT ON {} {} IS {}").format(
        sql.SQL(routine.word.upper()), signature_sql(routine), literal
    )
    return make_statement(Form.CREATE_FUNCTION, text)


# pg_get_functiondef prints the language on a line of its own, before the body.
_SQL_LANGUAGE = re.compile(r"^ LANGUAGE sql$", re.MULTILINE)


def _create(routine: ManagedRoutine) -> Statement:
    # As pg_get_functiondef printed it, after the file's text was parsed as one CREATE.
    # A SQL body is parsed and analyzed as it is made (a string one with
    # check_function_bodies on, BEGIN ATOMIC always): the tables it reads are locked.
    header = routine.definition.partition("\nAS ")[0].partition("\nBEGIN ATOMIC")[0]
    form = Form.CREATE_SQL_FUNCTION if _SQL_LANGUAGE.search(header) else Form.CREATE_FUNCTION
    return make_statement(form, sql.SQL(routine.definition))


def _drop(routine: ManagedRoutine, cascade: bool = False) -> Statement:
    text = sql.SQL("DROP {} {}{}").format(
        sql.SQL(routine.word.upper()),
        signature_sql(routine),
        sql.SQL(" CASCADE" if cascade else ""),
    )
    return make_statement(Form.DROP_FUNCTION, text)


@statements.register
def _(change: CreateRoutine) -> list[Statement]:
    routine = change.routine
    old_comment = change.old.comment if change.old is not None else None
    if change.only_comment:
        return [_comment(routine)]
    made = [_create(routine)]
    if not change.replace and routine.name.schema != "public":
        made.insert(0, make_statement(Form.CREATE_SCHEMA, create_schema(routine.name.schema)))
    if routine.comment != old_comment:
        made.append(_comment(routine))
    return made


@statements.register
def _(change: RebuildRoutine) -> list[Statement]:
    old, new = change.old, change.new
    result: list[Statement] = []
    for view in old.user_views:
        result.append(_drop_view(view))
    rebuilt = [u for u in old.users if u.kind in _REBUILT and u.kind != "view"]
    for user in rebuilt:
        result.append(_drop_user(user))
    result.append(_drop(old))
    result.append(_create(new))
    if new.comment is not None:
        result.append(_comment(new))
    result += _privileges(old)
    for user in reversed(rebuilt):
        result.append(_make_user(user))
    for view in reversed(old.user_views):
        result.append(make_statement(Form.CREATE_VIEW, views.create_view(view, replace=False)))
        if view.comment is not None:
            result.append(comment("view", view.name, view.name.name, view.comment))
        result += owner_and_grants(view.name, view.owner, view.grants)
    return result


def _privileges(old: ManagedRoutine) -> list[Statement]:
    """The live routine's owner and grants, given to the one made in its place."""
    word = sql.SQL(old.word.upper())
    result = []
    if old.owner:
        text = sql.SQL("ALTER {} {} OWNER TO {}").format(
            word, signature_sql(old), sql.Identifier(old.owner)
        )
        result.append(make_statement(Form.ROUTINE_PRIVILEGES, text))
    if old.grants is not None:  # its own list: EXECUTE by PUBLIC only if it is in it
        revoke = sql.SQL("REVOKE ALL ON {} {} FROM PUBLIC").format(word, signature_sql(old))
        result.append(make_statement(Form.ROUTINE_PRIVILEGES, revoke))
        for grantee, privilege in old.grants:
            # grantee: quote_ident() or PUBLIC (then WITH GRANT OPTION if held); privilege:
            # from aclexplode()
            grant = sql.SQL("GRANT {} ON {} {} TO {}").format(
                sql.SQL(privilege), word, signature_sql(old), sql.SQL(grantee)
            )
            result.append(make_statement(Form.ROUTINE_PRIVILEGES, grant))
    return result


@statements.register
def _(change: cc.DropColumnReader) -> list[Statement]:
    reader = change.reader
    if reader.table is None:
        routine = _reader_routine(reader)
        text = sql.SQL("DROP {} IF EXISTS {}").format(
            sql.SQL(routine.word.upper()), signature_sql(routine)
        )
        return [make_statement(Form.DROP_FUNCTION, text)]
    text = sql.SQL("DROP RULE IF EXISTS {} ON {}").format(
        sql.Identifier(reader.name.name), sql.Identifier(reader.table.schema, reader.table.name)
    )
    return [make_statement(Form.DROP_RULE, text)]


@statements.register
def _(change: cc.CreateColumnReader) -> list[Statement]:
    reader = change.reader
    if reader.table is None:
        routine = _reader_routine(reader)
        made = [_create(routine)]
        if routine.comment is not None:
            made.append(_comment(routine))
        return made + _privileges(routine)
    # As pg_get_ruledef printed it (names qualified), without its closing semicolon.
    result = [make_statement(Form.CREATE_RULE, sql.SQL(reader.definition.rstrip().rstrip(";")))]
    if reader.comment is not None:
        text = sql.SQL("COMMENT ON RULE {} ON {} IS {}").format(
            sql.Identifier(reader.name.name),
            sql.Identifier(reader.table.schema, reader.table.name),
            sql.Literal(reader.comment),
        )
        result.append(make_statement(Form.COMMENT, text))
    return result


def _reader_routine(reader: ColumnReader) -> ManagedRoutine:
    """A BEGIN ATOMIC routine that reads a retyped column, as the routine kind makes one."""
    return ManagedRoutine(
        reader.name,
        (reader.arguments,) if reader.arguments else (),
        reader.kind == "procedure",
        reader.definition.rstrip(),
        reader.comment,
        owner=reader.owner,
        grants=reader.grants,
    )


def _table(user: User) -> sql.Composable:
    return sql.Identifier(user.schema, user.table or "")


def _drop_view(view: views.ManagedView) -> Statement:
    # IF EXISTS: a view further down may have been dropped with the first (a copy's).
    text = sql.SQL("DROP VIEW IF EXISTS {}").format(
        sql.Identifier(view.name.schema, view.name.name)
    )
    return make_statement(Form.DROP_VIEW, text)


def _drop_user(user: User) -> Statement:
    name = sql.Identifier(user.name)
    if user.kind == "default":
        text = sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(_table(user), name)
        return make_statement(Form.SET_DEFAULT, text)
    if user.kind == "index":
        text = sql.SQL("DROP INDEX {}").format(sql.Identifier(user.schema, user.name))
        return make_statement(Form.DROP_INDEX, text)
    text = sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(_table(user), name)
    return make_statement(Form.DROP_CONSTRAINT, text)


def _make_user(user: User) -> Statement:
    # The definitions are PostgreSQL's own (pg_get_expr, pg_get_indexdef, pg_get_constraintdef).
    made = sql.SQL(user.definition or "")
    name = sql.Identifier(user.name)
    if user.kind == "default":
        text = sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
            _table(user), name, made
        )
        return make_statement(Form.SET_DEFAULT, text)
    if user.kind == "index":
        return make_statement(Form.CREATE_INDEX, made)
    text = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(_table(user), name, made)
    return make_statement(Form.ADD_CHECK, text)


@statements.register
def _(change: DropRoutine) -> list[Statement]:
    routine = change.routine
    if not change.remade:
        return [_drop(routine, cascade=bool(_not_remade(change)))]
    result = [_drop_view(view) for view in routine.user_views]  # deepest first
    result.append(_drop(routine, cascade=bool(_not_remade(change))))
    declared = {view.key: view for view in change.remade}
    for live in reversed(routine.user_views):
        view = declared[live.key]
        result.append(make_statement(Form.CREATE_VIEW, views.create_view(view, replace=False)))
        if view.comment is not None:
            result.append(comment("view", view.name, view.name.name, view.comment))
        result += owner_and_grants(live.name, live.owner, live.grants)
    return result


def _not_remade(change: DropRoutine) -> list[User]:
    """The routine's users that its drop takes along for good."""
    if not change.views_declared:
        return list(change.routine.users)
    return [u for u in change.routine.users if u.kind != "view"]


def with_declared_views_remade(
    changes: list[ch.Change], desired: Sequence[KindObject]
) -> list[ch.Change]:
    """Each routine the file drops, with the views calling it made again after the drop
    when the file declares every one of them (else CASCADE takes them, a destructive drop)."""
    declared = {
        o.key: o for o in desired if isinstance(o, views.ManagedView) and o.state == "present"
    }
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, DropRoutine) and change.routine.user_views:
            chain = change.routine.user_views
            if all(view.key in declared for view in chain):
                unchanged = any(declared[view.key] == view for view in chain)
                remade = tuple(declared[view.key] for view in chain) if unchanged else ()
                change = replace(change, views_declared=True, remade=remade)
        result.append(change)
    return result


# --- hazards --------------------------------------------------------------------------


@hazards.register
def _(change: CreateRoutine) -> list[Hazard]:
    if not change.replace or change.only_comment or change.old is None:
        return []
    return _stale_rows(change.old)


@hazards.register
def _(change: RebuildRoutine) -> list[Hazard]:
    # Its checks are validated and its indexes built again: only blockers remain.
    found: list[Hazard] = []
    blocking = [u for u in change.old.users if u.kind in _BLOCKING]
    if blocking:
        names = ", ".join(u.label for u in blocking)
        detail = (
            f"{change.old.word} {change.old.key} cannot be dropped and made again under "
            f"{names}: PostgreSQL would drop them with it; change them first"
        )
        found.append(Hazard("may_fail", detail))
    return found


def _stale_rows(old: ManagedRoutine) -> list[Hazard]:
    users = [u for u in old.users if u.kind in _ROW_USERS]
    if not users:
        return []
    names = ", ".join(u.label for u in users)
    detail = (
        f"replaces {old.word} {old.key}, which {names} call: rows stored or indexed "
        "with the old one may no longer agree with the new one"
    )
    return [Hazard("destructive", detail)]


@hazards.register
def _(change: DropRoutine) -> list[Hazard]:
    users = _not_remade(change)
    if not users:
        return []
    names = ", ".join(u.label for u in users)
    detail = f"drops {change.routine.word} {change.routine.key} and what calls it: {names}"
    return [Hazard("destructive", detail)]


# --- dump -----------------------------------------------------------------------------


def dump_key(row: RoutineRow) -> str:
    return f"{sql_name(QualifiedName(row.schema, row.name), public=False)}({row.arguments})"


def row_document(row: RoutineRow) -> dict[str, Any]:
    """The fields that make this routine again, or its whole definition where they cannot
    (BEGIN ATOMIC bodies, SET options, languages other than SQL and PL/pgSQL)."""
    document: dict[str, Any] = {}
    if row.atomic or row.config or row.language not in ("sql", "plpgsql"):
        document["definition"] = printed(row.definition) + "\n"
    else:
        if not row.procedure:
            document["returns"] = row.result
        document["language"] = row.language
        document["body"] = row.body
        document.update(_attribute_fields(row))
    if row.comment is not None:
        document["comment"] = row.comment
    return document


def _attribute_fields(row: RoutineRow) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if row.security_definer:
        fields["security_definer"] = True
    if row.procedure:
        return fields
    volatility = {"i": "immutable", "s": "stable"}.get(row.volatility)
    if volatility:
        fields["volatility"] = volatility
    if row.strict:
        fields["strict"] = True
    if row.leakproof:
        fields["leakproof"] = True
    parallel = {"s": "safe", "r": "restricted"}.get(row.parallel)
    if parallel:
        fields["parallel"] = parallel
    if row.cost != 100:
        fields["cost"] = int(row.cost) if row.cost.is_integer() else row.cost
    default_rows = 1000 if row.returns_set else 0
    if row.rows != default_rows:
        fields["rows"] = int(row.rows) if row.rows.is_integer() else row.rows
    return fields


def definition_document(routine: ManagedRoutine) -> dict[str, Any]:
    document: dict[str, Any] = {"definition": routine.definition + "\n"}
    if routine.comment is not None:
        document["comment"] = routine.comment
    return document


__all__ = [
    "FUNCTIONS",
    "PROCEDURES",
    "CreateRoutine",
    "DropRoutine",
    "ManagedRoutine",
    "RebuildRoutine",
    "User",
    "signature_sql",
]
