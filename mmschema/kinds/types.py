"""Composite and range types: declared under `composite_types:` and `range_types:`, compared
as PostgreSQL prints them; attributes added, dropped or retyped in place where PostgreSQL
allows, else dropped and made again when nothing uses the type, else refused."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import kind_sql
from mmschema.ddl.base import Statement, create_schema, dotted, make_statement, qualified, render
from mmschema.ddl.base import statements as ddl_statements
from mmschema.desired.build import Context
from mmschema.desired.checks import BadName, parse_table_name, shown
from mmschema.desired.declared import Source
from mmschema.desired.sqltext import SqlProblem, check_type
from mmschema.hazards import Hazard, hazards
from mmschema.kinds import comments
from mmschema.kinds.base import KindObject, Unmanaged
from mmschema.kinds.typeusers import (
    ColumnUser,
    column_users,
    named_pairs,
    needed_first,
    report_failure,
    type_key,
    type_used,
    users_label,
)
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName
from mmschema.scratch_chunks import ScratchRun
from mmschema.scratch_steps import ScratchStep

COMPOSITE_KEY = "composite_types"
RANGE_KEY = "range_types"


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # format_type() once normalized
    collation: str = ""  # only when not the type's default


@dataclass(frozen=True)
class ManagedComposite:
    """A composite type the file declares (or its live counterpart): equal when its
    attributes are printed the same, in the same order."""

    name: QualifiedName
    attributes: tuple[Attribute, ...]
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    users: tuple[ColumnUser, ...] = field(default=(), compare=False)  # live: its columns
    comment: comments.Declared = field(default=comments.NOT_GIVEN, compare=False)

    @property
    def key(self) -> str:
        return str(self.name)

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class ManagedRange:
    """A range type the file declares (or its live counterpart): equal when PostgreSQL
    prints its subtype, operator class, collation, functions and multirange the same."""

    name: QualifiedName
    subtype: str  # format_type() once normalized
    subtype_opclass: str | None = None  # None: the subtype's default
    collation: str | None = None
    canonical: str | None = None
    subtype_diff: str | None = None
    multirange: str | None = None  # schema.name; None in the file: PostgreSQL's default
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    users: tuple[ColumnUser, ...] = field(default=(), compare=False)
    comment: comments.Declared = field(default=comments.NOT_GIVEN, compare=False)

    @property
    def key(self) -> str:
        return str(self.name)


Managed = ManagedComposite | ManagedRange


# --- the changes ----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateType(ch.KindChange):
    """CREATE TYPE ... AS (...) or AS RANGE (...), before the tables."""

    made: Managed
    # FUNCTIONS when a range's canonical or subtype_diff function is one the plan makes.
    phase: ch.Phase = ch.Phase.ENUMS

    @property
    def kind_name(self) -> str:
        return f"create_{_word(self.made)}"

    @property
    def subject(self) -> str:
        return self.made.key

    @property
    def makes(self) -> tuple[str, ...]:
        return (type_key(self.made.name),)

    @property
    def needs(self) -> tuple[str, ...]:
        return _needs(self.made)


@dataclass(frozen=True)
class AlterAttributes(ch.KindChange):
    """ALTER TYPE ... DROP / ADD / ALTER ATTRIBUTE, in one statement, before the tables."""

    old: ManagedComposite
    new: ManagedComposite
    phase = ch.Phase.ENUMS

    @property
    def kind_name(self) -> str:
        return "alter_composite_type"

    @property
    def subject(self) -> str:
        return self.new.key

    @property
    def needs(self) -> tuple[str, ...]:
        return _needs(self.new)

    @property
    def dropped(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.old.attributes if self.new.attribute(a.name) is None)

    @property
    def added(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.new.attributes if self.old.attribute(a.name) is None)

    @property
    def retyped(self) -> tuple[Attribute, ...]:
        return tuple(
            a
            for a in self.new.attributes
            if (old := self.old.attribute(a.name)) is not None and old != a
        )


@dataclass(frozen=True)
class RebuildType(ch.KindChange):
    """DROP TYPE and CREATE TYPE (a range changes, or a composite's attributes move): only
    when no column uses it, else refused (may_fail)."""

    old: Managed
    new: Managed
    phase = ch.Phase.ENUMS

    @property
    def kind_name(self) -> str:
        return f"rebuild_{_word(self.new)}"

    @property
    def subject(self) -> str:
        return self.new.key

    @property
    def needs(self) -> tuple[str, ...]:
        return _needs(self.new)


@dataclass(frozen=True)
class DropType(ch.KindChange):
    """DROP TYPE (no CASCADE) of one the file marks absent or --prune drops, after the
    tables and columns that may have used it."""

    dropped: Managed
    phase = ch.Phase.DROP_TYPES

    @property
    def kind_name(self) -> str:
        return f"drop_{_word(self.dropped)}"

    @property
    def subject(self) -> str:
        return self.dropped.key


def _word(item: Managed) -> str:
    return "composite_type" if isinstance(item, ManagedComposite) else "range_type"


def range_functions(item: Managed) -> set[str]:
    """The unqualified names of a range's canonical and subtype_diff functions."""
    if not isinstance(item, ManagedRange):
        return set()
    names = (item.canonical, item.subtype_diff)
    return {n.rpartition(".")[2].strip('"') for n in names if n is not None}


def _needs(item: Managed) -> tuple[str, ...]:
    """The keys of the types this one's attributes or subtype name (a declared domain)."""
    if isinstance(item, ManagedComposite):
        return tuple(a.type.removesuffix("[]") for a in item.attributes)
    return (item.subtype,)


# --- the kinds ------------------------------------------------------------------------


class TypeKind:
    """The composite types kind or the range types kind, as the pipeline sees it."""

    def __init__(self, file_key: str, sort: type[ManagedComposite] | type[ManagedRange]) -> None:
        self.file_key = file_key
        self.sort = sort

    def owns(self, item: object) -> bool:
        return isinstance(item, self.sort)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        if self.sort is ManagedComposite:
            return build_composite(context, key, spec)
        return build_range(context, key, spec)

    def _read(
        self, conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
    ) -> list[Managed]:
        if self.sort is ManagedComposite:
            return list(read_composites(conn, names, schemas))
        return list(read_ranges(conn, names, schemas))

    def _mine(self, objects: Iterable[object]) -> list[Managed]:
        return [o for o in objects if isinstance(o, self.sort)]

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        return tuple(self._read(conn, [t.name for t in self._mine(declared)], []))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        present = [t for t in self._mine(declared) if t.state == "present"]
        if not present:
            return ()
        found = {t.key: t for t in self._read(run.conn, [t.name for t in present], [])}
        result: list[KindObject] = []
        for item in present:
            made = found.get(item.key)
            if made is None:
                what = f"{_word(item).replace('_', ' ')} {item.key}"
                report_failure(run, item.source, what, item.name, create_type_sql(item))
                continue
            made = replace(made, state=item.state, source=item.source, users=())
            result.append(replace(made, comment=item.comment))
        return tuple(result)

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        return diff_types(self._mine(live), self._mine(desired))

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        found = self._read(conn, [], list(schemas))
        if only:
            wanted = set(only)
            found = [t for t in found if {t.name.name, t.key, t.name.schema} & wanted]
        return {type_key(t.name): type_document(t) for t in found}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        return {type_key(t.name): type_document(t) for t in self._mine(live)}

    def declared_steps(self, declared: Sequence[KindObject]) -> list[ScratchStep]:
        """The declared types, on the scratch server before the file's tables using them."""
        steps = []
        present = [t for t in self._mine(declared) if t.state == "present"]
        for item in needed_first(present, lambda t: t.name, _needs):
            where = f"{item.source}: {_word(item).replace('_', ' ')} {item.key}"
            steps.append(ScratchStep(render(create_schema(item.name.schema)), where))
            steps.append(ScratchStep(create_type_sql(item), where))
        return steps

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """The types of this kind nothing uses in the schemas of the file's tables and types."""
        mine = self._mine(declared)
        schemas = sorted({t.name.schema for t in mine} | {t.schema for t in live.tables})
        named = {t.key for t in mine}
        return [
            Unmanaged(t.key, f"{_word(t).replace('_', ' ')} {t.key}", DropType(t))
            for t in self._read(conn, [], schemas)
            if t.key not in named and not t.users and not type_used(conn, t.name)
        ]


COMPOSITES = TypeKind(COMPOSITE_KEY, ManagedComposite)
RANGES = TypeKind(RANGE_KEY, ManagedRange)


# --- the file -------------------------------------------------------------------------


def _type_text(context: Context, path: tuple[str, ...], value: object, label: str) -> str:
    if not isinstance(value, str):
        return ""
    try:
        check_type(value)
    except SqlProblem as problem:
        context.error(path, f"{label} {problem}")
        return ""
    return value.strip()


def _name_text(context: Context, path: tuple[str, ...], value: object, label: str) -> str | None:
    """A (possibly schema-qualified) object name: an operator class, collation or function."""
    if not isinstance(value, str):
        return None
    try:
        parse_table_name(value, "pg_catalog")
    except BadName as problem:
        context.error(path, f"{label} '{value}' {problem}")
        return None
    return value.strip()


def build_composite(context: Context, key: str, spec: Mapping[str, object]) -> ManagedComposite:
    path = (COMPOSITE_KEY, key)
    name = context.table_name(path, key, "public", "composite type")
    label = f"composite type {shown(name)}"
    state = spec.get("state")
    attributes = []
    written = spec.get("attributes")
    for attribute, value in (written.items() if isinstance(written, dict) else ()):
        where = (*path, "attributes", str(attribute))
        context.check_name(where, "attribute name", str(attribute))
        detail = value if isinstance(value, dict) else {"type": value}
        type_path = (*where, "type") if isinstance(value, dict) else where
        text = _type_text(context, type_path, detail.get("type"), f"{label}: {attribute}:")
        collation = _name_text(
            context, (*where, "collation"), detail.get("collation"), f"{label}: collation"
        )
        attributes.append(Attribute(str(attribute), text, collation or ""))
    return ManagedComposite(
        name=name,
        attributes=tuple(attributes),
        state=state if isinstance(state, str) else "present",
        source=context.key(path),
        comment=comments.declared(spec),
    )


def build_range(context: Context, key: str, spec: Mapping[str, object]) -> ManagedRange:
    path = (RANGE_KEY, key)
    name = context.table_name(path, key, "public", "range type")
    label = f"range type {shown(name)}"
    state = spec.get("state")

    def named(field_name: str) -> str | None:
        return _name_text(
            context, (*path, field_name), spec.get(field_name), f"{label}: {field_name}"
        )

    multirange = None
    if isinstance(spec.get("multirange"), str):
        multirange = str(context.table_name((*path, "multirange"), str(spec["multirange"]),
                                            name.schema, f"{label}: multirange"))
    return ManagedRange(
        name=name,
        subtype=_type_text(context, (*path, "subtype"), spec.get("subtype"), f"{label}: subtype"),
        subtype_opclass=named("subtype_opclass"),
        collation=named("collation"),
        canonical=named("canonical"),
        subtype_diff=named("subtype_diff"),
        multirange=multirange,
        state=state if isinstance(state, str) else "present",
        source=context.key(path),
        comment=comments.declared(spec),
    )


# --- the catalog ----------------------------------------------------------------------


@dataclass
class CompositeRow:
    schema: str
    name: str
    attributes: list[list[str]]
    users: list[list[str]]
    comment: str | None


@dataclass
class RangeRow:
    schema: str
    name: str
    subtype: str
    subtype_opclass: str | None
    collation: str | None
    canonical: str | None
    subtype_diff: str | None
    multirange: str
    multirange_schema: str
    users: list[list[str]]
    comment: str | None


def read_composites(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[ManagedComposite]:
    params = {**named_pairs(names), "schemas": list(schemas)}
    with conn.cursor(row_factory=class_row(CompositeRow)) as cur:
        cur.execute(kind_sql("composite_types"), params)
        rows = cur.fetchall()
    return [
        ManagedComposite(
            name=QualifiedName(row.schema, row.name),
            attributes=tuple(Attribute(a[0], a[1], a[2]) for a in row.attributes),
            users=column_users(row.users),
            comment=comments.Declared(row.comment, True),
        )
        for row in rows
    ]


def read_ranges(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[ManagedRange]:
    params = {**named_pairs(names), "schemas": list(schemas)}
    with conn.cursor(row_factory=class_row(RangeRow)) as cur:
        cur.execute(kind_sql("range_types"), params)
        rows = cur.fetchall()
    return [
        ManagedRange(
            name=QualifiedName(row.schema, row.name),
            subtype=row.subtype,
            subtype_opclass=row.subtype_opclass,
            collation=row.collation,
            canonical=row.canonical,
            subtype_diff=row.subtype_diff,
            multirange=str(QualifiedName(row.multirange_schema, row.multirange)),
            users=column_users(row.users),
            comment=comments.Declared(row.comment, True),
        )
        for row in rows
    ]


# --- the diff -------------------------------------------------------------------------


def diff_types(live: list[Managed], desired: list[Managed]) -> list[ch.Change]:
    have = {t.key: t for t in live}
    changes: list[ch.Change] = []
    for item in desired:
        old = have.get(item.key)
        if item.state == "absent":
            if old is not None:
                changes.append(DropType(old))
            continue
        had = old.comment.text if old is not None else None
        wanted = item.comment.wanted(had)
        if old is None:
            changes.append(CreateType(item))
        elif old != item:
            altered = _altered(old, item)
            changes.append(altered)
            had = None if isinstance(altered, RebuildType) else had
        changes += comments.comment_change("type", item.key, qualified(item.name), had, wanted)
    return changes


def _altered(old: Managed, new: Managed) -> ch.Change:
    if not (isinstance(old, ManagedComposite) and isinstance(new, ManagedComposite)):
        return RebuildType(old, new)
    return AlterAttributes(old, new) if in_place(old, new) else RebuildType(old, new)


def in_place(old: ManagedComposite, new: ManagedComposite) -> bool:
    """Whether DROP and ADD ATTRIBUTE (which appends) reach the declared order."""
    declared = {a.name for a in new.attributes}
    kept = [a.name for a in old.attributes if a.name in declared]
    had = {a.name for a in old.attributes}
    added = [a.name for a in new.attributes if a.name not in had]
    return kept + added == [a.name for a in new.attributes]


# --- SQL ------------------------------------------------------------------------------


def _attribute_sql(attribute: Attribute) -> sql.Composable:
    # The type was parsed as one type name; the collation as one name.
    text = sql.SQL("{} {}").format(sql.Identifier(attribute.name), sql.SQL(attribute.type))
    if attribute.collation:
        text = sql.SQL("{} COLLATE {}").format(text, dotted(attribute.collation))
    return text


def create_type_sql(item: Managed) -> str:
    name = qualified(item.name)
    if isinstance(item, ManagedComposite):
        attributes = sql.SQL(", ").join(_attribute_sql(a) for a in item.attributes)
        return render(sql.SQL("CREATE TYPE {} AS ({})").format(name, attributes))
    options: list[sql.Composable] = [sql.SQL("SUBTYPE = {}").format(sql.SQL(item.subtype))]
    for word, value in (
        ("SUBTYPE_OPCLASS", item.subtype_opclass),
        ("COLLATION", item.collation),
        ("CANONICAL", item.canonical),
        ("SUBTYPE_DIFF", item.subtype_diff),
        ("MULTIRANGE_TYPE_NAME", item.multirange),
    ):
        if value is not None:
            options.append(sql.SQL("{} = {}").format(sql.SQL(word), _dotted_name(value)))
    return render(sql.SQL("CREATE TYPE {} AS RANGE ({})").format(name, sql.SQL(", ").join(options)))


def _dotted_name(text: str) -> sql.Composable:
    """A name as the file or the catalog spells it (`"C"`, `public.f`): its parts quoted."""
    try:
        parsed = parse_table_name(text, "")
    except BadName:
        return dotted(text)
    parts = [parsed.schema, parsed.name] if parsed.schema else [parsed.name]
    return sql.Identifier(*parts)


def _drop(item: Managed) -> Statement:
    return make_statement(Form.DROP_TYPE, sql.SQL("DROP TYPE {}").format(qualified(item.name)))


@ddl_statements.register
def _(change: CreateType) -> list[Statement]:
    return [Statement(Form.CREATE_TYPE, create_type_sql(change.made))]


@ddl_statements.register
def _(change: AlterAttributes) -> list[Statement]:
    actions: list[sql.Composable] = [
        sql.SQL("DROP ATTRIBUTE {}").format(sql.Identifier(a.name)) for a in change.dropped
    ]
    actions += [sql.SQL("ADD ATTRIBUTE {}").format(_attribute_sql(a)) for a in change.added]
    for attribute in change.retyped:
        retype = sql.SQL("ALTER ATTRIBUTE {} SET DATA TYPE {}").format(
            sql.Identifier(attribute.name), sql.SQL(attribute.type)
        )
        if attribute.collation:
            retype = sql.SQL("{} COLLATE {}").format(retype, dotted(attribute.collation))
        actions.append(retype)
    listed = sql.SQL(", ").join(actions)
    text = sql.SQL("ALTER TYPE {} {}").format(qualified(change.new.name), listed)
    return [make_statement(Form.ALTER_TYPE_ATTRIBUTES, text)]


@ddl_statements.register
def _(change: RebuildType) -> list[Statement]:
    return [_drop(change.old), Statement(Form.CREATE_TYPE, create_type_sql(change.new))]


@ddl_statements.register
def _(change: DropType) -> list[Statement]:
    return [_drop(change.dropped)]


# --- hazards --------------------------------------------------------------------------


@hazards.register
def _(change: AlterAttributes) -> list[Hazard]:
    found = []
    users = change.old.users
    if change.retyped and users:
        names = ", ".join(a.name for a in change.retyped)
        detail = (
            f"composite type {change.new.key}: PostgreSQL cannot change the type of attribute "
            f"{names} while it is used by {users_label(users)}; change those columns first"
        )
        found.append(Hazard("may_fail", detail))
    if change.dropped and users:
        names = ", ".join(a.name for a in change.dropped)
        detail = f"drops attribute {names} of {change.new.key} from the values of "
        detail += users_label(users)
        found.append(Hazard("destructive", detail))
    return found


@hazards.register
def _(change: RebuildType) -> list[Hazard]:
    if not change.old.users:
        return []
    ranged = isinstance(change.new, ManagedRange)
    what = "range type" if ranged else "composite type's attribute order"
    detail = (
        f"{_word(change.new).replace('_', ' ')} {change.new.key}: a changed {what} means DROP "
        f"TYPE and CREATE TYPE, and it is used by {users_label(change.old.users)}; change "
        "those columns first, or declare a new type"
    )
    return [Hazard("may_fail", detail)]


@hazards.register
def _(change: DropType) -> list[Hazard]:
    item = change.dropped
    detail = f"drops {_word(item).replace('_', ' ')} {item.key}"
    if item.users:
        detail += f" (used now by {users_label(item.users)}: gone or retyped first)"
    return [Hazard("destructive", detail)]


# --- dump -----------------------------------------------------------------------------


def default_multirange(name: QualifiedName) -> str:
    """PostgreSQL's multirange name for a range: `multi` before its first `range`, else
    `_multirange` appended, in the range's schema."""
    at = name.name.find("range")
    made = f"{name.name[:at]}multi{name.name[at:]}" if at >= 0 else f"{name.name}_multirange"
    return str(QualifiedName(name.schema, made))


def type_document(item: Managed) -> dict[str, Any]:
    if isinstance(item, ManagedComposite):
        attributes: dict[str, Any] = {
            a.name: ({"type": a.type, "collation": a.collation} if a.collation else a.type)
            for a in item.attributes
        }
        return comments.with_comment({"attributes": attributes}, item.comment.text)
    document: dict[str, Any] = {"subtype": item.subtype}
    for word in ("subtype_opclass", "collation", "canonical", "subtype_diff"):
        value = getattr(item, word)
        if value is not None:
            document[word] = value
    if item.multirange is not None and item.multirange != default_multirange(item.name):
        document["multirange"] = item.multirange
    return comments.with_comment(document, item.comment.text)


__all__ = ["COMPOSITES", "RANGES", "AlterAttributes", "CreateType", "DropType", "RebuildType"]
