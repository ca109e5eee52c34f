"""Sequences: declared under `sequences:`, compared as pg_sequence holds them, altered in place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.canonical import serial_sequence
from mmschema.catalogsql import catalog_read, kind_sql
from mmschema.ddl.base import Statement, create_schema, make_statement, qualified, statements
from mmschema.desired.build import Context
from mmschema.desired.checks import BadName, shown, split_name
from mmschema.desired.declared import DesiredState, Source
from mmschema.hazards import Hazard, hazards
from mmschema.kinds import comments
from mmschema.kinds.base import KindObject, ScratchStep, Unmanaged
from mmschema.kinds.tables.dump import table_key
from mmschema.kinds.tables.model import SERIAL_TYPES as SERIAL_BASES
from mmschema.kinds.tables.owned_sequences import restart_position
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName
from mmschema.pgnames import object_name

if TYPE_CHECKING:
    # A type only: scratch_chunks reads the catalog through introspect, which reads the
    # tables through their kind, which asks this module which sequences the file declares.
    from mmschema.scratch_chunks import ScratchRun

FILE_KEY = "sequences"
# The types a sequence may have (AS), with their bounds.
BOUNDS = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
# The file's keys, with the option each is compared as (in ALTER SEQUENCE's order).
OPTIONS = ("as", "increment", "min", "max", "start", "cache", "cycle")


@dataclass(frozen=True)
class Owner:
    """The column a sequence is OWNED BY: dropping it (or its table) drops the sequence."""

    table: QualifiedName
    column: str

    def __str__(self) -> str:
        return f"{table_key(self.table)}.{_part(self.column)}"


@dataclass(frozen=True)
class ManagedSequence:
    """A sequence the file declares (every option filled in as PostgreSQL would), or a live
    one as pg_sequence holds it: equal when PostgreSQL would print them the same."""

    name: QualifiedName
    type: str = "bigint"
    increment: int = 1
    min: int = 1
    max: int = 2**63 - 1
    start: int = 1
    cache: int = 1
    cycle: bool = False
    owned_by: Owner | None = None
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    owned_by_source: Source | None = field(default=None, compare=False)
    last_value: str | None = field(default=None, compare=False)  # live: its position
    comment: comments.Declared = field(default=comments.NOT_GIVEN, compare=False)

    @property
    def key(self) -> str:
        return str(self.name)


@dataclass(frozen=True)
class CreateSequence(ch.KindChange):
    """CREATE SEQUENCE with every non-default option, before the tables whose defaults call
    it (OWNED BY comes later, once the owning column is there)."""

    sequence: ManagedSequence
    phase = ch.Phase.SEQUENCES

    @property
    def kind_name(self) -> str:
        return "create_sequence"

    @property
    def subject(self) -> str:
        return str(self.sequence.name)


@dataclass(frozen=True)
class AlterSequence(ch.KindChange):
    """ALTER SEQUENCE with the options that change (RESTART when its position would be
    outside the new bounds)."""

    old: ManagedSequence
    new: ManagedSequence
    phase = ch.Phase.SEQUENCES

    @property
    def kind_name(self) -> str:
        return "alter_sequence"

    @property
    def subject(self) -> str:
        return str(self.new.name)


@dataclass(frozen=True)
class SetSequenceOwner(ch.KindChange):
    """ALTER SEQUENCE ... OWNED BY (or NONE), after the tables and columns are made and
    before any is dropped."""

    sequence: ManagedSequence
    phase = ch.Phase.SEQUENCE_OWNERS

    @property
    def kind_name(self) -> str:
        return "set_sequence_owner"

    @property
    def subject(self) -> str:
        return str(self.sequence.name)


@dataclass(frozen=True)
class DropSequence(ch.KindChange):
    """DROP SEQUENCE of one the file marks `state: absent` or --prune drops: after the
    defaults calling it and the tables owning it are changed or dropped."""

    sequence: ManagedSequence
    pruned: bool = False
    phase = ch.Phase.DROP_SEQUENCES

    @property
    def kind_name(self) -> str:
        return "drop_sequence"

    @property
    def subject(self) -> str:
        return str(self.sequence.name)


class SequenceKind:
    """The sequences kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedSequence)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_sequence(context, key, spec)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        names = [s.name for s in _sequences(declared)]
        return tuple(s for s, _ in read_sequences(conn, names, [])) if names else ()

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        # Every option was filled in as PostgreSQL fills it in; absent ones are added back.
        return tuple(s for s in _sequences(declared) if s.state == "present")

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        return diff_sequences(list(_sequences(live)), list(_sequences(desired)))

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        found = [s for s, implicit in read_sequences(conn, [], list(schemas)) if not implicit]
        if only:
            wanted = set(only)
            found = [s for s in found if {s.name.name, s.key, s.name.schema} & wanted]
        return {table_key(s.name): sequence_document(s) for s in found}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        return {table_key(s.name): sequence_document(s) for s in _sequences(live)}

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """The sequences of the managed tables' and declared sequences' schemas that are
        not a serial's or an identity's (the tables declare those); dropped by --prune after
        the tables."""
        schemas = sorted(
            {name.schema for name in live.tables} | {s.name.schema for s in _sequences(declared)}
        )
        if not schemas:
            return []
        return [
            Unmanaged(s.key, f"sequence {s.name}", DropSequence(s, pruned=True))
            for s, implicit in read_sequences(conn, [], schemas, standalone=True)
            if not implicit
        ]


KIND = SequenceKind()


def scratch_steps(declared: Sequence[KindObject]) -> list[ScratchStep]:
    """The declared sequences on the scratch server before the file's routines and tables:
    a SQL function's body that calls nextval('a.seq') is checked against them."""
    steps = []
    for sequence in _sequences(declared):
        if sequence.state != "present":
            continue
        where = f"{sequence.source}: sequence {sequence.key}"
        create = sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(qualified(sequence.name))
        steps.append(ScratchStep(create_schema(sequence.name.schema).as_string(None), where))
        steps.append(ScratchStep(create.as_string(None), where, optional=True))
    return steps


def _sequences(objects: Iterable[object]) -> Iterable[ManagedSequence]:
    return (o for o in objects if isinstance(o, ManagedSequence))


# --- the file -------------------------------------------------------------------------


def build_sequence(context: Context, key: str, spec: Mapping[str, object]) -> ManagedSequence:
    """The declared sequence with every option PostgreSQL would fill in; options that
    CREATE SEQUENCE would refuse are reported at their file:line:column."""
    path = (FILE_KEY, key)
    name = context.table_name(path, key, "public", "sequence")
    state = spec.get("state")
    given = {k: spec.get(k) for k in OPTIONS}
    kind = given["as"] if isinstance(given["as"], str) and given["as"] in BOUNDS else "bigint"
    low, high = BOUNDS.get(kind, BOUNDS["bigint"])

    def number(option: str, default: int) -> int:
        value = given[option]
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    increment = number("increment", 1)
    if increment == 0:
        context.error((*path, "increment"), f"sequence {shown(name)}: increment must not be 0")
        increment = 1
    ascending = increment > 0
    minimum = number("min", 1 if ascending else low)
    maximum = number("max", high if ascending else -1)
    start = number("start", minimum if ascending else maximum)
    for option, value in (("min", minimum), ("max", maximum)):
        if not low <= value <= high:
            message = f"{option} {value} is out of range for a sequence of type {kind}"
            context.error((*path, option), f"sequence {shown(name)}: {message}")
    if minimum >= maximum:
        message = f"min ({minimum}) must be less than max ({maximum})"
        context.error((*path, "min"), f"sequence {shown(name)}: {message}")
    elif not minimum <= start <= maximum:
        message = f"start ({start}) must be between min ({minimum}) and max ({maximum})"
        context.error((*path, "start"), f"sequence {shown(name)}: {message}")
    owner = given_owner(context, (*path, "owned_by"), spec.get("owned_by"), shown(name))
    cycle = given["cycle"]
    return ManagedSequence(
        name=name,
        type=kind,
        increment=increment,
        min=minimum,
        max=maximum,
        start=start,
        cache=number("cache", 1),
        cycle=cycle is True,
        owned_by=owner,
        state=state if isinstance(state, str) else "present",
        source=context.key(path),
        owned_by_source=context.at((*path, "owned_by")) if owner is not None else None,
        comment=comments.declared(spec),
    )


SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def file_problems(state: DesiredState) -> list[tuple[Source, str]]:
    """A declared sequence that a serial column makes itself (it would be made twice), and
    an owned_by naming a column that the file's table does not have."""
    tables = {t.name: t for t in state.tables if t.state == "present"}
    serials: dict[QualifiedName, str] = {}
    for table in tables.values():
        for column in table.columns:
            if column.state == "present" and column.type.lower() in SERIAL_TYPES:
                made = object_name(table.name.name, column.name, "seq")
                serials[QualifiedName(table.name.schema, made)] = (
                    f"{table_key(table.name)}.{_part(column.name)}"
                )
    problems: list[tuple[Source, str]] = []
    for sequence in _sequences(state.objects):
        if sequence.state != "present" or sequence.source is None:
            continue
        serial = serials.get(sequence.name)
        if serial is not None:
            message = (
                f"sequence {shown(sequence.name)} is the sequence of serial column {serial}, "
                "which PostgreSQL makes with the column: leave it out of `sequences:`, or "
                "declare the column as an integer with default nextval() and this owned_by"
            )
            problems.append((sequence.source, message))
        owner = sequence.owned_by
        owning = tables.get(owner.table) if owner is not None else None
        if owner is None or owning is None:
            continue
        if owner.column not in {c.name for c in owning.columns if c.state == "present"}:
            missing = f"table {shown(owner.table)} has no column {_part(owner.column)}"
            where = sequence.owned_by_source or sequence.source
            message = f"sequence {shown(sequence.name)}: owned_by {owner}: {missing}"
            problems.append((where, message))
    return problems


def owner_problems(conn: psycopg.Connection[Any], state: DesiredState) -> list[str]:
    """'file:line:column: ...' for each owned_by naming a table the file does not declare
    that the target does not have either (with that column): caught by plan, not apply."""
    declared = {t.name for t in state.tables}
    owned = [
        s
        for s in _sequences(state.objects)
        if s.state == "present" and s.owned_by is not None and s.owned_by.table not in declared
    ]
    if not owned:
        return []
    owners = [s.owned_by for s in owned if s.owned_by is not None]
    params = {
        "schemas": [o.table.schema for o in owners],
        "tables": [o.table.name for o in owners],
        "columns": [o.column for o in owners],
    }
    with catalog_read(conn):
        rows = conn.execute(kind_sql("sequence_owners"), params).fetchall()
    found = {(QualifiedName(r[0], r[1]), r[2]): (bool(r[3]), bool(r[4])) for r in rows}
    problems: list[str] = []
    for sequence in owned:
        owner = sequence.owned_by
        assert owner is not None
        table_there, column_there = found.get((owner.table, owner.column), (False, False))
        if column_there:
            continue
        missing = (
            f"table {shown(owner.table)} has no column {_part(owner.column)}"
            if table_there
            else f"table {shown(owner.table)} is neither in the file nor in the database"
        )
        where = sequence.owned_by_source or sequence.source
        problems.append(f"{where}: sequence {shown(sequence.name)}: owned_by {owner}: {missing}")
    return problems


def given_owner(context: Context, path: tuple[str, ...], value: object, what: str) -> Owner | None:
    """`table.column` or `schema.table.column` (parts double-quoted as in SQL if need be)."""
    if not isinstance(value, str):
        return None
    try:
        parts = split_name(value)
    except BadName as problem:
        context.error(path, f"sequence {what}: owned_by '{value}' {problem}")
        return None
    if len(parts) not in (2, 3) or not all(parts):
        message = f"owned_by '{value}' is not table.column or schema.table.column"
        context.error(path, f"sequence {what}: {message}")
        return None
    table = QualifiedName(*parts[:-1]) if len(parts) == 3 else QualifiedName("public", parts[0])
    return Owner(table, parts[-1])


def sequence_name(text: str) -> QualifiedName | None:
    """A sequence as nextval('...') names it (public when unqualified), if it parses."""
    try:
        parts = split_name(text)
    except BadName:
        return None
    if len(parts) == 1:
        return QualifiedName("public", parts[0])
    return QualifiedName(parts[0], parts[1]) if len(parts) == 2 else None


# --- the catalog ----------------------------------------------------------------------


@dataclass
class SequenceRow:
    schema: str
    name: str
    type: str
    start: int
    increment: int
    min: int
    max: int
    cache: int
    cycle: bool
    owner_schema: str | None
    owner_table: str | None
    owner_column: str | None
    implicit: bool
    last_value: str | None
    comment: str | None


def read_sequences(
    conn: psycopg.Connection[Any],
    names: Sequence[QualifiedName],
    schemas: Sequence[str],
    standalone: bool = False,
) -> list[tuple[ManagedSequence, bool]]:
    """The sequences named and all those of `schemas`, each with whether it is implicit
    (an identity's, or a serial's that its table's dump declares); `standalone`: without
    the identities' (thousands in a big database, all implicit)."""
    params = {
        "standalone": standalone,
        "schemas": [n.schema for n in names],
        "names": [n.name for n in names],
        "schemas_all": list(schemas),
    }
    with conn.cursor(row_factory=class_row(SequenceRow)) as cur:
        cur.execute(kind_sql("sequences"), params)
        rows = cur.fetchall()
    return [(_from_row(row), row.implicit) for row in rows]


def _from_row(row: SequenceRow) -> ManagedSequence:
    owner = None
    if row.owner_schema is not None and row.owner_table is not None and row.owner_column:
        owner = Owner(QualifiedName(row.owner_schema, row.owner_table), row.owner_column)
    return ManagedSequence(
        name=QualifiedName(row.schema, row.name),
        type=row.type,
        increment=row.increment,
        min=row.min,
        max=row.max,
        start=row.start,
        cache=row.cache,
        cycle=row.cycle,
        owned_by=owner,
        last_value=row.last_value,
        comment=comments.Declared(row.comment, True),
    )


# --- the diff -------------------------------------------------------------------------


def diff_sequences(live: list[ManagedSequence], desired: list[ManagedSequence]) -> list[ch.Change]:
    """Creates and option changes before the tables, owners after them, drops after the
    tables; sequences the file does not name are left alone (or pruned)."""
    have = {s.key: s for s in live}
    changes: list[ch.Change] = []
    for sequence in desired:
        old = have.get(sequence.key)
        if sequence.state == "absent":
            if old is not None:
                changes.append(DropSequence(old))
            continue
        had = old.comment.text if old is not None else None
        changes += comments.comment_change(
            "sequence", sequence.key, qualified(sequence.name), had, sequence.comment
        )
        if old is None:
            changes.append(CreateSequence(sequence))
            if sequence.owned_by is not None:
                changes.append(SetSequenceOwner(sequence))
            continue
        if _options(old) != _options(sequence):
            changes.append(AlterSequence(old, sequence))
        if old.owned_by != sequence.owned_by:
            changes.append(SetSequenceOwner(sequence))
    return changes


def _options(sequence: ManagedSequence) -> tuple[object, ...]:
    s = sequence
    return (s.type, s.increment, s.min, s.max, s.start, s.cache, s.cycle)


def serials_adopted(live: Catalog, wanted: Catalog, desired: DesiredState) -> list[ch.Change]:
    """OWNED BY for each standalone sequence (`live.unmanaged`) named as a declared serial
    column's own, which that column's live default calls as the file's does: serial makes
    its column own the sequence, and the database should say so."""
    standalone = {
        u.drop.sequence.name: u.drop.sequence
        for u in live.unmanaged
        if isinstance(u.drop, DropSequence)
    }
    changes: list[ch.Change] = []
    if not standalone:
        return changes
    for table in desired.tables:
        have, want = live.tables.get(table.name), wanted.tables.get(table.name)
        if table.state != "present" or have is None or want is None:
            continue
        for column in table.columns:
            if column.type.lower() not in SERIAL_TYPES:
                continue
            name = serial_sequence(table.name, column.name)
            sequence = standalone.get(name) if name is not None else None
            if sequence is None:
                continue
            old, new = have.column(column.name), want.column(column.name)
            if old is not None and new is not None and old.default == new.default:
                owned = replace(sequence, owned_by=Owner(table.name, column.name))
                typed = _as_type(owned, SERIAL_BASES[column.type.lower()])
                if typed != owned:
                    changes.append(AlterSequence(sequence, typed))
                changes.append(SetSequenceOwner(owned))
    return changes


def _as_type(sequence: ManagedSequence, type_name: str) -> ManagedSequence:
    """The sequence AS another type, its bounds moved along where they were the old
    type's (as ALTER SEQUENCE ... AS moves them)."""
    low, high = BOUNDS.get(sequence.type, BOUNDS["bigint"])
    new_low, new_high = BOUNDS[type_name]
    ascending = sequence.increment > 0
    return replace(
        sequence,
        type=type_name,
        min=new_low if not ascending and sequence.min == low else sequence.min,
        max=new_high if ascending and sequence.max == high else sequence.max,
    )


# --- SQL ------------------------------------------------------------------------------


# ALTER SEQUENCE's words for the numeric options.
WORDS = {
    "increment": "INCREMENT BY",
    "min": "MINVALUE",
    "max": "MAXVALUE",
    "start": "START WITH",
    "cache": "CACHE",
}


def _option_sql(option: str, sequence: ManagedSequence) -> sql.Composable:
    if option == "cycle":
        return sql.SQL("CYCLE" if sequence.cycle else "NO CYCLE")
    if option == "as":
        return sql.SQL("AS {}").format(sql.SQL(sequence.type))  # one of BOUNDS' keys
    value: int = getattr(sequence, option)
    # An int from the file or the catalog: printed as a number, never a string.
    return sql.SQL("{} {}").format(sql.SQL(WORDS[option]), sql.SQL(str(int(value))))


def _all_options(sequence: ManagedSequence) -> list[str]:
    """The options that differ from what CREATE SEQUENCE would fill in (AS bigint,
    INCREMENT BY 1, the type's bounds in its direction, START at the first bound...)."""
    s = sequence
    low, high = BOUNDS.get(s.type, BOUNDS["bigint"])
    ascending = s.increment > 0
    differs = {
        "as": s.type != "bigint",
        "increment": s.increment != 1,
        "min": s.min != (1 if ascending else low),
        "max": s.max != (high if ascending else -1),
        "start": s.start != (s.min if ascending else s.max),
        "cache": s.cache != 1,
        "cycle": s.cycle,
    }
    return [o for o in OPTIONS if differs[o]]


def _value(sequence: ManagedSequence, option: str) -> object:
    return sequence.type if option == "as" else getattr(sequence, option)


@statements.register
def _(change: CreateSequence) -> list[Statement]:
    sequence = change.sequence
    options = [_option_sql(o, sequence) for o in _all_options(sequence)]
    text = sql.SQL("CREATE SEQUENCE {}{}").format(
        qualified(sequence.name),
        sql.SQL(" ").join([sql.SQL(""), *options]) if options else sql.SQL(""),
    )
    made = [make_statement(Form.CREATE_SEQUENCE, text)]
    if sequence.name.schema != "public":
        made.insert(0, make_statement(Form.CREATE_SCHEMA, create_schema(sequence.name.schema)))
    return made


@statements.register
def _(change: AlterSequence) -> list[Statement]:
    old, new = change.old, change.new
    changed = [o for o in OPTIONS if _value(old, o) != _value(new, o)]
    if "as" in changed:  # AS moves bounds that were the old type's: say the new ones
        changed += [o for o in ("min", "max") if o not in changed]
    parts = [_option_sql(o, new) for o in OPTIONS if o in changed]
    given = tuple(
        (k, str(v)) for k, v in (("increment", new.increment), ("min", new.min), ("max", new.max))
    )
    restart = restart_position((*given, ("start", str(new.start))), old.last_value)
    if old.last_value is not None and restart is not None:
        parts.append(sql.SQL("RESTART WITH {}").format(sql.SQL(str(int(restart)))))
    text = sql.SQL("ALTER SEQUENCE {} {}").format(qualified(new.name), sql.SQL(" ").join(parts))
    return [make_statement(Form.ALTER_SEQUENCE, text)]


@statements.register
def _(change: SetSequenceOwner) -> list[Statement]:
    owner = change.sequence.owned_by
    target = (
        sql.Identifier(owner.table.schema, owner.table.name, owner.column)
        if owner is not None
        else sql.SQL("NONE")
    )
    text = sql.SQL("ALTER SEQUENCE {} OWNED BY {}").format(qualified(change.sequence.name), target)
    return [make_statement(Form.ALTER_SEQUENCE, text)]


@statements.register
def _(change: DropSequence) -> list[Statement]:
    # IF EXISTS: a dropped table or column that owns it takes it along first.
    text = sql.SQL("DROP SEQUENCE IF EXISTS {}").format(qualified(change.sequence.name))
    return [make_statement(Form.DROP_SEQUENCE, text)]


@hazards.register
def _(change: DropSequence) -> list[Hazard]:
    why = "which the file does not declare (--prune)" if change.pruned else "its position is lost"
    return [Hazard("destructive", f"drops sequence {change.sequence.name}, {why}")]


# --- dump -----------------------------------------------------------------------------


def _part(text: str) -> str:
    return shown(QualifiedName("x", text)).removeprefix("x.")


def sequence_document(sequence: ManagedSequence) -> dict[str, Any]:
    """Its options that differ from what CREATE SEQUENCE fills in, and its owner."""
    document: dict[str, Any] = {o: _value(sequence, o) for o in _all_options(sequence)}
    if sequence.owned_by is not None:
        document["owned_by"] = str(sequence.owned_by)
    return comments.with_comment(document, sequence.comment.text)


__all__ = ["KIND", "AlterSequence", "CreateSequence", "DropSequence", "ManagedSequence"]
