"""Puts declared (or foreign-version) tables through a scratch server to get PostgreSQL's spelling.

The objects are created in a transaction on the scratch server, read back with the same
catalog queries as the target, and rolled back: the server is the parser. Results are
cached by the statements' text and the scratch server's identity, so a warm plan starts
no scratch server at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from mmschema import __version__, cachefile
from mmschema.canonical import canonical_tables
from mmschema.confined import confine
from mmschema.desired.declared import (
    DesiredState,
    InvalidFile,
)
from mmschema.kinds.base import KindObject
from mmschema.model import Catalog, QualifiedName
from mmschema.pipeline.kinds import (
    TABLES,
    declared_type_steps,
    live_printings,
    live_types_but_declared,
    normalize_objects,
    objects_as_written,
    scratch_preamble,
)
from mmschema.scratch_chunks import run_in_chunks
from mmschema.scratch_steps import (
    ScratchStep,
    catalog_steps,
    desired_steps,
    extension_steps,
    function_steps,
)
from mmschema.shapes import ShapeMismatch, expanded, group_shapes

CACHE_FORMAT = "5"


@dataclass
class Scratch:
    """A scratch server: an identity for cache keys, and a way to connect when needed."""

    identity: str
    connect: Callable[[], psycopg.Connection[Any]]


class NormalizeCache:
    """Scratch results on disk, keyed by the statements and the scratch server's identity."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def key(self, identity: str, inputs: object, names: list[QualifiedName]) -> str:
        """Everything the scratch result depends on, digested the same way in every process."""
        return cachefile.digest((CACHE_FORMAT, __version__, identity, inputs, names))

    def get(self, key: str) -> Catalog | None:
        if self.directory is None:
            return None
        catalog = cachefile.read(self.directory / f"{key}.pickle")
        return catalog if isinstance(catalog, Catalog) else None

    def put(self, key: str, catalog: Catalog) -> None:
        if self.directory is not None:
            cachefile.write(self.directory / f"{key}.pickle", catalog)


def prepare_session(conn: psycopg.Connection[Any]) -> None:
    """The scratch session's settings, for every chunk's transaction."""
    conn.execute("SET search_path = public")
    conn.execute("SET check_function_bodies = off")
    # A timestamp written without an offset (a partition bound, a default) means UTC,
    # whatever the scratch server's own time zone is.
    conn.execute("SET TimeZone = 'UTC'")
    conn.commit()


def run_on_scratch(
    scratch: Scratch,
    make_steps: Callable[[], list[ScratchStep]],
    key: str,
    names: list[QualifiedName],
    cache: NormalizeCache,
    tolerate_errors: bool = False,
    links: Iterable[tuple[QualifiedName, QualifiedName]] = (),
) -> Catalog:
    """Create the objects on the scratch server, read them back, roll back (in chunks that
    fit its lock table; `links` are pairs of tables that must be in the same chunk).

    The steps are only rendered on a cache miss: on a warm cache, `key` (made from
    what the steps are made from) is all it costs.
    """
    cached = cache.get(key)
    if cached is not None:
        return cached
    with scratch.connect() as conn:
        confinement = confine(conn)
        conn.autocommit = False
        prepare_session(conn)
        catalog = run_in_chunks(
            conn, make_steps(), names, links, tolerate_errors, confinement=confinement
        )
    cache.put(key, catalog)
    return catalog


@dataclass(frozen=True)
class Normalized:
    """The file's tables in PostgreSQL's spelling, and how many needed the scratch server."""

    catalog: Catalog
    declared: int  # present tables in the file
    on_scratch: int  # of them, those the scratch server normalized (0: never contacted)


def normalize_desired(
    desired: DesiredState,
    scratch: Scratch,
    cache: NormalizeCache,
    live: Catalog,
    live_functions: Callable[[], list[str]] = list,
) -> Catalog:
    return normalize_file(desired, scratch, cache, live, live_functions).catalog


def normalize_file(
    desired: DesiredState,
    scratch: Scratch,
    cache: NormalizeCache,
    live: Catalog,
    live_functions: Callable[[], list[str]] = list,
) -> Normalized:
    """The file's tables as the scratch server prints them; those already spelled so
    (canonical.py: by form, or as the live catalog prints them) are built without it, and
    with none left no server is contacted."""
    present = desired.present_tables()
    types = [(t.name.schema, t.name.name) for t in live.types]
    types += [(e.name.schema, e.name.name) for e in desired.enums]
    ready = canonical_tables(present, types, printed=live.tables)
    names = [t.name for t in present if t.name not in ready]
    catalog = Catalog(server_version=live.server_version)
    if names:
        catalog = normalized_on_scratch(
            desired, names, scratch, cache, live, live_functions, types
        )
        other_major = major(catalog.server_version) != major(live.server_version)
        by_form = canonical_tables(present, types) if ready and other_major else ready
        as_printed = [name for name in ready if name not in by_form]
        if as_printed:
            # The live texts are another major's printing: the scratch server's own
            # printing of them is what the rest of the file is compared in.
            again = normalized_on_scratch(
                desired, as_printed, scratch, cache, live, live_functions, types
            )
            catalog = replace(catalog, tables={**catalog.tables, **again.tables})
            ready = {name: table for name, table in ready.items() if name in by_form}
            names += as_printed
    # In the catalog's order (schema, name), whichever chunk or path a table came from.
    everything = dict(sorted([*catalog.tables.items(), *ready.items()]))
    catalog = replace(catalog, tables=everything)
    tables = TABLES.as_declared(everything, desired, live)
    catalog = replace(
        catalog,
        tables=tables,
        extensions=frozenset(desired.extensions),
        objects=normalized_objects(desired, scratch, cache, live, live_functions),
    )
    return Normalized(catalog, len(present), len(names))


def major(server_version: int) -> int:
    return server_version // 10000


def normalized_on_scratch(
    desired: DesiredState,
    names: list[QualifiedName],
    scratch: Scratch,
    cache: NormalizeCache,
    live: Catalog,
    live_functions: Callable[[], list[str]],
    taken: list[tuple[str, str]],
) -> Catalog:
    """The named tables of the file as the scratch server reads them back (cached); one of
    each shape (shapes.py) goes there, the others take its result under their names."""
    wanted = set(names)
    linked = {name for pair in TABLES.links(desired) for name in pair}
    present = [t for t in desired.present_tables() if t.name in wanted]
    shapes = group_shapes(present, desired.present_tables(), taken, linked)
    representatives = shapes.representatives
    if len(representatives) < len(names):
        try:
            catalog = on_scratch(desired, representatives, scratch, cache, live, live_functions)
            return replace(catalog, tables=expanded(shapes, catalog.tables))
        except (InvalidFile, ShapeMismatch):
            pass  # again table by table: every declaration's error at its own place
    return on_scratch(desired, names, scratch, cache, live, live_functions)


def on_scratch(
    desired: DesiredState,
    names: list[QualifiedName],
    scratch: Scratch,
    cache: NormalizeCache,
    live: Catalog,
    live_functions: Callable[[], list[str]],
) -> Catalog:
    """The named tables of the file, each created on the scratch server and read back."""
    wanted = set(names)
    rest = replace(
        desired, tables=tuple(t for t in desired.tables if t.state != "present" or t.name in wanted)
    )
    extra_extensions = live.extensions - set(desired.extensions)

    def make_steps() -> list[ScratchStep]:
        return [
            *extension_steps(extra_extensions),
            *function_steps(live_functions()),
            *scratch_preamble(desired.objects),
            *desired_steps(
                rest,
                live_types_but_declared(live.types, desired.objects),
                declared_type_steps(desired.objects),
            ),
        ]

    # The file's text decides its tables (the normalized result holds no positions).
    declared = desired.text or desired.tables
    enums = tuple((e.name, e.labels, e.state) for e in desired.enums)
    inputs = ("desired", declared, desired.extensions, sorted(extra_extensions), live.types, enums)
    key = cache.key(scratch.identity, inputs, names)
    return run_on_scratch(scratch, make_steps, key, names, cache, links=TABLES.links(rest))


def normalized_objects(
    desired: DesiredState,
    scratch: Scratch,
    cache: NormalizeCache,
    live: Catalog,
    live_functions: Callable[[], list[str]] = list,
) -> tuple[KindObject, ...]:
    """The file's views and other kinds' objects as the scratch server prints them (cached);
    those it marks absent as declared."""
    absent = tuple(o for o in desired.objects if o.state != "present")
    if len(absent) == len(desired.objects):
        return absent
    as_written = objects_as_written(desired.objects)
    if as_written is not None:  # no scratch transaction making every table of the file
        return (*as_written, *absent)
    inputs = (
        "objects",
        desired.text or repr(desired.tables),
        repr(desired.objects),
        desired.extensions,
        sorted(live.extensions),
        live.types,
        live_printings(live),
    )
    key = cache.key(scratch.identity, inputs, [])
    cached = cache.get(key)
    if cached is not None:
        return (*cached.objects, *absent)
    with scratch.connect() as conn:
        confinement = confine(conn)
        conn.autocommit = False
        prepare_session(conn)
        objects = normalize_objects(conn, confinement, desired, live, live_functions())
    cache.put(key, Catalog(objects=objects))
    return (*objects, *absent)


def normalize_live(live: Catalog, scratch: Scratch, cache: NormalizeCache) -> Catalog:
    """The live tables as the scratch server prints them (when its major differs)."""
    names = list(live.tables)
    key = cache.key(scratch.identity, ("live", live), names)
    reprinted = run_on_scratch(
        scratch,
        lambda: catalog_steps(live),
        key,
        names,
        cache,
        tolerate_errors=True,
        links=[(t.name, t.partition_of) for t in live.tables.values() if t.partition_of],
    )
    return replace(live, tables=TABLES.as_live(live, reprinted))
