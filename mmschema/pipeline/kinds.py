"""The generic hooks: read, normalize, diff and dump every registered kind, naming none."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from mmschema import changes as ch
from mmschema.confined import Confinement
from mmschema.ddl.base import create_schema, render
from mmschema.desired.build import Context
from mmschema.desired.checks import Report
from mmschema.desired.declared import DesiredState, InvalidFile, Source
from mmschema.kinds import (
    default_privileges,
    domains,
    grants,
    matviews,
    policies,
    schemas,
    sequences,
    triggers,
    views,
)
from mmschema.kinds.base import (
    ArrangedWithTables,
    Arrangement,
    CalledByTables,
    CatalogKind,
    Kind,
    KindObject,
    MadeBeforeTables,
    Unmanaged,
)
from mmschema.kinds.functions import (
    FUNCTIONS,
    PROCEDURES,
    CreateRoutine,
    ManagedRoutine,
    typed_steps,
    with_declared_views_remade,
)
from mmschema.kinds.kept_privileges import remade_objects
from mmschema.kinds.replaced_tables import taken_by_replaced_tables
from mmschema.kinds.retyped_readers import remade_as_declared
from mmschema.kinds.rounds import MadeInRounds, made_in_rounds
from mmschema.kinds.sequences import DropSequence, sequence_name
from mmschema.kinds.sequences import scratch_steps as sequence_steps
from mmschema.kinds.tables import kind as table_kind
from mmschema.kinds.types import (
    COMPOSITES,
    RANGES,
    CreateType,
    DropType,
    ManagedComposite,
    ManagedRange,
    range_functions,
)
from mmschema.kinds.typeusers import spellings
from mmschema.model import Catalog, QualifiedName, UserType
from mmschema.nextval import referenced_sequences
from mmschema.object_tables import named_tables
from mmschema.scratch_chunks import ScratchRun, lock_table_too_small
from mmschema.scratch_steps import ScratchStep, desired_steps, extension_steps, function_steps

# The table family: the Catalog's tables (its DDL registers as its modules are imported).
TABLES: CatalogKind = table_kind.TABLES
# Routines first: the scratch server needs them before the views and triggers calling them.
KINDS: tuple[Kind, ...] = (
    schemas.KIND,
    sequences.KIND,
    FUNCTIONS,
    PROCEDURES,
    domains.KIND,
    COMPOSITES,
    RANGES,
    views.KIND,
    matviews.KIND,
    triggers.KIND,
    policies.KIND,
    default_privileges.KIND,
    grants.KIND,  # last: owners and grants after the objects are made
)
# The kinds whose objects are made on the scratch server together, round after round.
MADE_IN_ROUNDS = (
    views.ViewKind,
    matviews.MatviewKind,
    triggers.TriggerKind,
    policies.PolicyKind,
)
TYPE_OBJECTS = (domains.ManagedDomain, ManagedComposite, ManagedRange)
FILE_KEYS = tuple(kind.file_key for kind in KINDS)
# The kinds whose normalize() gives back the declared objects (names, literals and options
# PostgreSQL prints as written): a file declaring only these needs no scratch server for them.
AS_WRITTEN: tuple[Kind, ...] = (schemas.KIND, sequences.KIND, default_privileges.KIND, grants.KIND)
CALLED_BY_TABLES: tuple[CalledByTables, ...] = (FUNCTIONS,)
# The kinds of types the tables' columns may use, in the order they are made.
MADE_BEFORE_TABLES: tuple[MadeBeforeTables, ...] = (domains.KIND, COMPOSITES, RANGES)
# The kinds with an ordering hook around the table family's changes, in the kinds' order.
ARRANGED_WITH_TABLES: tuple[ArrangedWithTables, ...] = (schemas.KIND, triggers.KIND, policies.KIND)


def of_kind(kind: Kind, objects: Sequence[KindObject]) -> list[KindObject]:
    return [o for o in objects if kind.owns(o)]


def objects_as_written(objects: Sequence[KindObject]) -> tuple[KindObject, ...] | None:
    """The present objects as normalize_objects would give them, when all are of the kinds
    printed as written (None when one needs the scratch server), in the kinds' order."""
    present = [o for o in objects if o.state == "present"]
    if not all(any(kind.owns(o) for kind in AS_WRITTEN) for o in present):
        return None
    return tuple(o for kind in KINDS for o in of_kind(kind, present))


def scratch_preamble(objects: Sequence[KindObject]) -> list[ScratchStep]:
    """What the scratch server needs before the file's tables: the functions they call."""
    return [step for kind in CALLED_BY_TABLES for step in kind.scratch_preamble(objects)]


def declared_type_steps(objects: Sequence[KindObject]) -> list[ScratchStep]:
    """The file's domains, composite and range types on the scratch server (after its enums,
    before its tables), then the file's routines that name them (made too early before)."""
    steps = [step for kind in MADE_BEFORE_TABLES for step in kind.declared_steps(objects)]
    names = [
        spelling
        for o in objects
        if isinstance(o, TYPE_OBJECTS) and o.state == "present"
        for spelling in spellings(o.name)
    ]
    routines = [r for r in objects if isinstance(r, ManagedRoutine)]
    return steps + typed_steps(routines, names) if steps else steps


def live_types_but_declared(
    types: tuple[UserType, ...], objects: Sequence[KindObject]
) -> tuple[UserType, ...]:
    """The target's types the scratch server copies, but those the file declares (made as
    declared instead)."""
    declared = {getattr(o, "name", None) for o in objects if isinstance(o, TYPE_OBJECTS)}
    return tuple(t for t in types if t.name not in declared)


def build_objects(context: Context, data: Mapping[str, object]) -> list[KindObject]:
    """Every kind's objects a file declares under the kind's top-level key."""
    found: list[KindObject] = []
    for kind in KINDS:
        section = data.get(kind.file_key)
        if kind is grants.KIND or not isinstance(section, dict):
            continue  # the JSON Schema check reports it
        for key, spec in section.items():
            if isinstance(key, str) and isinstance(spec, dict):
                found.append(kind.build(context, key, spec))
    # Owners and grants, from the entries of the tables and of the kinds above.
    return found + grants.declared_privileges(context, data)


def merged_objects(objects: Sequence[KindObject], report: Report) -> tuple[KindObject, ...]:
    """The objects of all files, each key once per kind."""
    seen: dict[tuple[type, str], KindObject] = {}
    for item in objects:
        first = seen.get((type(item), item.key))
        if first is not None:
            where = getattr(item, "source", None)
            if where is not None:
                message = f"{item.key} is declared twice (first at {getattr(first, 'source', '')})"
                report.add(where, message)
            continue
        seen[(type(item), item.key)] = item
    return tuple(seen.values())


def in_dropped_schemas(state: DesiredState, report: Report) -> None:
    """A table, enum or object the file keeps in a schema it marks absent: refused where the
    object is declared (the schema's DROP ... CASCADE would take it along)."""
    absent = {s.key: s for s in state.objects if isinstance(s, schemas.ManagedSchema)}
    absent = {key: s for key, s in absent.items() if s.state == "absent"}
    if not absent:
        return
    named: list[tuple[object, object]] = [
        (t.name, t.source) for t in state.tables if t.state == "present"
    ]
    named += [(e.name, e.source) for e in state.enums if e.state == "present"]
    named += [
        (getattr(o, "name", None), getattr(o, "source", None))
        for o in state.objects
        if o.state == "present"
    ]
    for name, source in named:
        if not isinstance(name, QualifiedName) or not isinstance(source, Source):
            continue
        schema = absent.get(name.schema)
        if schema is not None:
            message = f"{name} is in schema {name.schema}, which the file marks absent"
            report.add(source, f"{message} (at {schema.source})")


def read_objects(
    conn: psycopg.Connection[Any], declared: Sequence[KindObject]
) -> tuple[KindObject, ...]:
    """The live objects the file names, one bulk query per kind that has any (read only)."""
    found: list[KindObject] = []
    for kind in KINDS:
        mine = of_kind(kind, declared)
        if mine:
            found += kind.read(conn, mine)
    return tuple(found)


def types_the_file_uses(desired: DesiredState) -> set[str]:
    """The type names the file's columns, domains, composite and range types are written
    with (`pair[]`, `ledger.code`): an undeclared type they name is not unmanaged."""
    written = [c.type for t in desired.tables for c in t.columns]
    for item in desired.objects:
        if isinstance(item, domains.ManagedDomain):
            written.append(item.base_type)
        elif isinstance(item, ManagedComposite):
            written += [a.type for a in item.attributes]
        elif isinstance(item, ManagedRange):
            written.append(item.subtype)
    return {t.removesuffix("[]").replace('"', "").strip() for t in written}


def _named_by_file(unmanaged: Unmanaged, used: Collection[str]) -> bool:
    drop = unmanaged.drop
    if isinstance(drop, domains.DropDomain):
        name = drop.domain.name
    elif isinstance(drop, DropType):
        name = drop.dropped.name
    else:
        return False
    return any(spelling.replace('"', "") in used for spelling in spellings(name))


def unmanaged_objects(
    conn: psycopg.Connection[Any],
    live: Catalog,
    declared: Sequence[KindObject],
    types_used: Collection[str] = (),
) -> tuple[Unmanaged, ...]:
    """Every kind's live objects on the managed tables that the file does not declare (read
    only), each kind's in the order --prune drops them; not the types `types_used` names."""
    absent = {(type(o), o.key) for o in declared if o.state == "absent"}
    # What the plan drops CASCADE takes its readers along: those are not listed.
    cascaded = {
        reader.key
        for o in live.objects
        if (type(o), o.key) in absent
        for reader in getattr(o, "readers", ())
    }
    found: list[Unmanaged] = []
    for kind in KINDS:
        mine = of_kind(kind, declared)
        named = {o.key for o in mine} | cascaded
        found += [u for u in kind.unmanaged(conn, live, mine) if u.key not in named]
    found = [u for u in found if not _named_by_file(u, types_used)]
    return tuple(sorted(found, key=lambda u: -u.depth))


def called_by_defaults_kept(live: Catalog, desired: Catalog) -> Catalog:
    """The live catalog without the undeclared sequences that the file's column defaults
    call: a default the file keeps needs its sequence, which is neither listed nor pruned."""
    called = {
        str(name)
        for table in desired.tables.values()
        for column in table.columns
        for text in referenced_sequences(column.default or "")
        if (name := sequence_name(text)) is not None
    }
    kept = tuple(
        u for u in live.unmanaged if not (isinstance(u.drop, DropSequence) and u.key in called)
    )
    return live if len(kept) == len(live.unmanaged) else replace(live, unmanaged=kept)


def without_pruned(live: Catalog) -> Catalog:
    """The live catalog without the views --prune drops: none is made again around a type
    change of a column it reads."""
    gone = {u.relation for u in live.unmanaged if u.relation is not None}
    if not gone:
        return live
    return replace(live, views=tuple(v for v in live.views if v.name not in gone))


def normalize_objects(
    conn: psycopg.Connection[Any],
    confinement: Confinement,
    desired: DesiredState,
    live: Catalog,
    functions: Sequence[str] = (),
) -> tuple[KindObject, ...]:
    """The declared objects as the scratch server prints them: the target's functions (which
    views and triggers may call) and the file's tables created first (their errors are the
    tables' normalization's to report), then each kind's objects, read back, all in one
    transaction that is rolled back."""
    tables = ScratchRun(conn, [], True, confinement)
    run = ScratchRun(conn, [], False, confinement)
    found: list[KindObject] = []
    # Only the tables the objects could name (and those calling the file's routines or
    # using its types, which are read back with them): each holds lock slots until the end.
    scanned = [repr(o) for o in desired.objects if not any(k.owns(o) for k in AS_WRITTEN)]
    used = [o.name.name for o in desired.objects if isinstance(o, (ManagedRoutine, *TYPE_OBJECTS))]
    named = named_tables(
        desired.present_tables(), [*scanned, *functions], TABLES.links(desired), used
    )
    beside = replace(desired, tables=tuple(named))
    try:
        with conn.transaction(force_rollback=True):
            confinement.open()
            tables.run_steps(_steps_before_objects(desired, beside, live, functions))
            rounds: list[tuple[MadeInRounds, Sequence[KindObject]]] = []
            for kind in KINDS:
                mine = of_kind(kind, desired.objects)
                if isinstance(kind, MADE_IN_ROUNDS):
                    rounds.append((kind, mine))  # together: one may read another's objects
                elif mine and isinstance(kind, domains.DomainKind):
                    found += kind.normalize_against(run, mine, live.objects)
                elif mine:
                    found += kind.normalize(run, mine)
            found += made_in_rounds(run, rounds)
    except pg_errors.OutOfMemory:
        what = f"the {len(named)} tables the file's views, triggers, policies and routines name"
        raise lock_table_too_small(conn, what) from None
    if run.errors:
        raise InvalidFile(run.errors)
    return tuple(found)


def _steps_before_objects(
    desired: DesiredState, beside: DesiredState, live: Catalog, functions: Sequence[str]
) -> list[ScratchStep]:
    """What the objects need made first: extensions, schemas, sequences, the target's
    functions and the file's, types, and the tables they name (`beside`)."""
    extensions = set(desired.extensions) | set(live.extensions)
    table_schemas = sorted({t.name.schema for t in desired.tables})
    return [
        *extension_steps(extensions),
        # The target's functions may live in the schemas of the file's tables.
        *[ScratchStep(render(create_schema(s)), "a schema") for s in table_schemas],
        *sequence_steps(desired.objects),  # a function's body may call nextval()
        *function_steps(list(functions)),
        *scratch_preamble(desired.objects),  # the file's functions the tables call
        *desired_steps(
            beside,
            live_types_but_declared(live.types, desired.objects),
            declared_type_steps(desired.objects),
        ),
    ]


def live_printings(live: Catalog) -> str:
    """What of the live objects their normalization depends on (the domains' texts)."""
    return repr([o for o in live.objects if isinstance(o, domains.ManagedDomain)])


def arranged_with_tables(
    changes: list[ch.Change], live: Catalog, desired: Sequence[KindObject]
) -> tuple[list[ch.Change], tuple[Unmanaged, ...]]:
    """Every kind's changes after the table family's (`changes`, arranged), each kind's
    ordering hook applied, and the live objects the file does not declare: the objects a
    replaced table takes along are made again, the views a type change drops are made as
    declared, and what the plan drops and makes again gets its owner and grants back."""
    kept, remade = taken_by_replaced_tables(changes, live, desired)
    objects = [*remade, *diff_objects(kept, desired)]
    arrangement = Arrangement(changes, objects, live.unmanaged)
    for kind in ARRANGED_WITH_TABLES:
        arrangement = kind.arranged(arrangement)
    tables, objects = remade_as_declared(arrangement.tables, arrangement.objects)
    merged = [*tables, *objects]
    return with_grants_of_remade(merged, live.objects, desired), arrangement.unmanaged


def diff_objects(live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
    changes: list[ch.Change] = []
    for kind in KINDS:
        changes += kind.diff(of_kind(kind, live), of_kind(kind, desired))
    return makers_first(with_declared_views_remade(domains_after_routines(changes), desired))


def domains_after_routines(changes: list[ch.Change]) -> list[ch.Change]:
    """A new domain whose check or default calls a routine the plan makes, or a new range
    type whose canonical or subtype_diff function it makes (made before the tables then),
    is made in the routines' phase, after them (the kinds' order puts routines first)."""
    named = {n for c in changes if isinstance(c, CreateType) for n in range_functions(c.made)}
    changes = [
        replace(c, phase=ch.Phase.FUNCTIONS)
        if isinstance(c, CreateRoutine) and not c.only_comment and c.routine.name.name in named
        else c
        for c in changes
    ]
    made = {
        c.routine.name.name
        for c in changes
        if isinstance(c, CreateRoutine) and c.phase == ch.Phase.FUNCTIONS and not c.only_comment
    }
    return [
        replace(c, phase=ch.Phase.FUNCTIONS)
        if (isinstance(c, domains.CreateDomain) and any(c.domain.calls(n) for n in made))
        or (isinstance(c, CreateType) and range_functions(c.made) & made)
        else c
        for c in changes
    ]


def with_grants_of_remade(
    changes: list[ch.Change], live: Sequence[KindObject], desired: Sequence[KindObject]
) -> list[ch.Change]:
    """The changes, with the declared owner and grants of each object the plan drops and
    makes again (a table, view, routine, domain or type) given to it anew, grant options
    and column grants included (views and routines get their owner back themselves)."""
    remade = remade_objects(changes)
    if not remade:
        return changes
    keep_owner = [r.target.key for r in remade if r.restores_itself]
    return grants.regranted(changes, [r.target for r in remade], live, desired, keep_owner)


def makers_first(changes: list[ch.Change]) -> list[ch.Change]:
    """The changes in their order, but each after the changes (of any kind) that make what
    it reads: a change may name the keys it `makes` and `needs` (a view reading a
    materialized view declared in the same file)."""
    makers: dict[str, int] = {}
    for i, change in enumerate(changes):
        for key in getattr(change, "makes", ()):
            makers.setdefault(key, i)
    ordered: list[ch.Change] = []
    done: set[int] = set()

    def visit(i: int, path: frozenset[int]) -> None:
        if i in done or i in path:
            return
        for key in getattr(changes[i], "needs", ()):
            maker = makers.get(key)
            if maker is not None and maker != i:
                visit(maker, path | {i})
        done.add(i)
        ordered.append(changes[i])

    for i in range(len(changes)):
        visit(i, frozenset())
    return ordered


def objects_document(live: Sequence[KindObject]) -> dict[str, Any]:
    """The file's sections that make these live objects again (a rehearsal's copy)."""
    document: dict[str, Any] = {}
    # With what reads them, of any kind (a view's materialized view readers, say).
    everything = [*live, *(r for o in live for r in getattr(o, "readers", ()))]
    for kind in KINDS:
        section = kind.document(of_kind(kind, everything))
        if section:
            document[kind.file_key] = section
    return document


def dump_objects(
    conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
) -> dict[str, Any]:
    """The file's sections for every kind found in `schemas` (those `only` names, if given)."""
    document: dict[str, Any] = {}
    for kind in KINDS:
        section = kind.dump(conn, schemas, only)
        if section:
            document[kind.file_key] = section
    return document
