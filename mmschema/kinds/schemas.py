"""Schemas as objects: declared under `schemas:` (owner, comment), created first, dropped last."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import kind_sql
from mmschema.ddl.base import Statement, create_schema, make_statement, statements
from mmschema.desired.build import Context
from mmschema.desired.declared import InvalidFile, Source
from mmschema.hazards import Hazard, hazards
from mmschema.kinds.base import Arrangement, KindObject, Unmanaged
from mmschema.locks import Form
from mmschema.model import Catalog
from mmschema.scratch_chunks import ScratchRun

FILE_KEY = "schemas"
# What a schema may hold, as the catalog read counts it and the drop's hazard names it.
HOLDS = ("tables", "views", "sequences", "routines", "types")


@dataclass(frozen=True)
class ManagedSchema:
    """A schema the file declares (or its live counterpart). A declared owner or comment of
    None leaves the live one as it is."""

    name: str
    owner: str | None = None
    comment: str | None = None
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    owner_source: Source | None = field(default=None, compare=False)
    holds: tuple[tuple[str, int], ...] = field(default=(), compare=False)  # live: sort, count

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class CreateManagedSchema(ch.KindChange):
    """CREATE SCHEMA IF NOT EXISTS (a table of the file may make it first), then its owner
    and comment."""

    schema: ManagedSchema
    phase = ch.Phase.SCHEMAS

    @property
    def kind_name(self) -> str:
        return "create_schema"

    @property
    def subject(self) -> str:
        return self.schema.name


@dataclass(frozen=True)
class AlterManagedSchema(ch.KindChange):
    """ALTER SCHEMA OWNER TO and COMMENT ON SCHEMA, each only when it changes."""

    schema: ManagedSchema
    owner: bool
    comment: bool
    phase = ch.Phase.SCHEMAS

    @property
    def kind_name(self) -> str:
        return "alter_schema"

    @property
    def subject(self) -> str:
        return self.schema.name


@dataclass(frozen=True)
class DropManagedSchema(ch.KindChange):
    """DROP SCHEMA ... CASCADE of a schema the file marks `state: absent`, after all else."""

    schema: ManagedSchema  # as read: what it holds
    phase = ch.Phase.DROP_SCHEMAS

    @property
    def kind_name(self) -> str:
        return "drop_schema"

    @property
    def subject(self) -> str:
        return self.schema.name


class SchemaKind:
    """The schemas kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedSchema)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_schema(context, key, spec)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        mine = list(_schemas(declared))
        _check_owners(conn, mine)
        return tuple(read_schemas(conn, [s.name for s in mine], []))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(declared)  # names and literals: PostgreSQL prints them as written

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        return diff_schemas(list(_schemas(live)), list(_schemas(desired)))

    def arranged(self, arrangement: Arrangement) -> Arrangement:
        """Without the tables' side's CREATE SCHEMA of a schema that `schemas:` creates
        (with its owner and comment)."""
        made = {c.subject for c in arrangement.objects if isinstance(c, CreateManagedSchema)}
        tables = [
            c
            for c in arrangement.tables
            if not (isinstance(c, ch.CreateSchema) and c.name in made)
        ]
        return replace(arrangement, tables=tables)

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        wanted = [s for s in schemas if not only or s in only]
        if not wanted:
            return {}
        connected_as = _connected(conn, [])[0]
        found = read_schemas(conn, [], wanted)
        # An empty schema is declared too (`{}`): the file then manages it, so it is made,
        # and --prune drops what is added to it. public only then: it is always there.
        documents = {
            s.name: {} if s.name == "public" else schema_document(s, connected_as)
            for s in found
        }
        empty = {s.name for s in found if not any(n for _, n in s.holds)}
        return {name: doc for name, doc in documents.items() if doc or name in empty}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        # A rehearsal's copy may be on a server without the owner's role: the comment only.
        return {s.name: schema_document(s, s.owner) for s in _schemas(live)}

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        return []  # a schema the file does not declare is left alone, never pruned


KIND = SchemaKind()


def _schemas(objects: Iterable[object]) -> Iterable[ManagedSchema]:
    return (o for o in objects if isinstance(o, ManagedSchema))


# --- the file -------------------------------------------------------------------------


def build_schema(context: Context, key: str, spec: Mapping[str, object]) -> ManagedSchema:
    path = (FILE_KEY, key)
    context.check_name(path, "schema name", key)
    owner = spec.get("owner")
    if isinstance(owner, str):
        context.check_name((*path, "owner"), "owner", owner)
    note = spec.get("comment")
    state = spec.get("state")
    return ManagedSchema(
        name=key,
        owner=owner if isinstance(owner, str) else None,
        comment=note if isinstance(note, str) else None,
        state=state if isinstance(state, str) else "present",
        source=context.key(path),
        owner_source=context.at((*path, "owner")),
    )


# --- the catalog ----------------------------------------------------------------------


@dataclass
class SchemaRow:
    name: str
    owner: str
    comment: str | None
    tables: int
    views: int
    sequences: int
    routines: int
    types: int


@dataclass
class RolesRow:
    connected_as: str
    roles_found: list[str]


def read_schemas(
    conn: psycopg.Connection[Any], names: Sequence[str], schemas: Sequence[str]
) -> list[ManagedSchema]:
    """The schemas named and those of `schemas` as they are, with what each holds."""
    params = {"names": list(names), "schemas": list(schemas)}
    with conn.cursor(row_factory=class_row(SchemaRow)) as cur:
        cur.execute(kind_sql("schemas"), params)
        rows = cur.fetchall()
    return [
        ManagedSchema(
            name=row.name,
            owner=row.owner,
            comment=row.comment,
            holds=tuple((sort, getattr(row, sort)) for sort in HOLDS),
        )
        for row in rows
    ]


def _connected(conn: psycopg.Connection[Any], roles: Sequence[str]) -> tuple[str, set[str]]:
    with conn.cursor(row_factory=class_row(RolesRow)) as cur:
        cur.execute(kind_sql("schema_roles"), {"roles": list(roles)})
        row = cur.fetchone()
    assert row is not None  # one row always
    return row.connected_as, set(row.roles_found)


def _check_owners(conn: psycopg.Connection[Any], declared: Sequence[ManagedSchema]) -> None:
    """Roles are not created: an owner the target does not have refuses the file."""
    named = [s for s in declared if s.owner is not None and s.state == "present"]
    if not named:
        return
    _, found = _connected(conn, sorted({s.owner for s in named if s.owner is not None}))
    errors = [
        f"{s.owner_source}: schema {s.name}: owner role {s.owner!r} does not exist on the target"
        for s in named
        if s.owner not in found
    ]
    if errors:
        raise InvalidFile(errors)


# --- the diff -------------------------------------------------------------------------


def diff_schemas(live: list[ManagedSchema], desired: list[ManagedSchema]) -> list[ch.Change]:
    """Creates and changes (phased before anything else), drops (after everything else);
    schemas the file does not name are left alone."""
    have = {s.name: s for s in live}
    changes: list[ch.Change] = []
    for schema in desired:
        old = have.get(schema.name)
        if schema.state == "absent":
            if old is not None:
                changes.append(DropManagedSchema(old))
        elif old is None:
            changes.append(CreateManagedSchema(schema))
        else:
            owner = schema.owner is not None and schema.owner != old.owner
            comment = schema.comment is not None and schema.comment != old.comment
            if owner or comment:
                changes.append(AlterManagedSchema(schema, owner, comment))
    return changes


# --- SQL ------------------------------------------------------------------------------


def _owner(schema: ManagedSchema) -> Statement:
    text = sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(
        sql.Identifier(schema.name), sql.Identifier(schema.owner or "")
    )
    return make_statement(Form.SCHEMA_OWNER, text)


def _comment(schema: ManagedSchema) -> Statement:
    text = sql.SQL("COMMENT ON SCHEMA {} IS {}").format(
        sql.Identifier(schema.name), sql.Literal(schema.comment)
    )
    return make_statement(Form.COMMENT_SCHEMA, text)


@statements.register
def _(change: CreateManagedSchema) -> list[Statement]:
    schema = change.schema
    made = [make_statement(Form.CREATE_SCHEMA, create_schema(schema.name))]
    if schema.owner is not None:
        made.append(_owner(schema))
    if schema.comment is not None:
        made.append(_comment(schema))
    return made


@statements.register
def _(change: AlterManagedSchema) -> list[Statement]:
    made = [_owner(change.schema)] if change.owner else []
    return made + ([_comment(change.schema)] if change.comment else [])


@statements.register
def _(change: DropManagedSchema) -> list[Statement]:
    text = sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(change.schema.name))
    return [make_statement(Form.DROP_SCHEMA, text)]


def held(schema: ManagedSchema) -> str:
    """What the schema holds, as the drop's hazard says it: "2 tables, 1 view"."""
    parts = [f"{n} {sort if n != 1 else sort.removesuffix('s')}" for sort, n in schema.holds if n]
    return ", ".join(parts)


@hazards.register
def _(change: DropManagedSchema) -> list[Hazard]:
    holds = held(change.schema)
    if not holds:
        return []
    detail = f"drops schema {change.schema.name} and all it holds: {holds}"
    return [Hazard("destructive", detail)]


# --- dump -----------------------------------------------------------------------------


def schema_document(schema: ManagedSchema, connected_as: str | None) -> dict[str, Any]:
    """Its non-default facts: the owner when not the connecting role, the comment."""
    document: dict[str, Any] = {}
    if schema.owner is not None and schema.owner != connected_as:
        document["owner"] = schema.owner
    if schema.comment is not None:
        document["comment"] = schema.comment
    return document


__all__ = ["KIND", "AlterManagedSchema", "CreateManagedSchema", "DropManagedSchema"]
