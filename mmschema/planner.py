"""The plan pipeline: read the target, normalize the file on the scratch server, diff, plan."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from mmschema.collector import settle
from mmschema.desired.declared import DesiredState, InvalidFile
from mmschema.diff import diff, managed_names
from mmschema.early_read import CatalogAhead
from mmschema.introspect import read_catalog, read_function_definitions, with_dependents
from mmschema.kinds.base import Unmanaged
from mmschema.kinds.functions import ManagedRoutine
from mmschema.kinds.kept_privileges import with_privileges_kept
from mmschema.kinds.sequences import owner_problems, serials_adopted
from mmschema.kinds.undeclared import undeclared_objects
from mmschema.model import Catalog
from mmschema.normalize import NormalizeCache, Scratch, major, normalize_file, normalize_live
from mmschema.pipeline.diff import DiffResult
from mmschema.pipeline.kinds import (
    TABLES,
    called_by_defaults_kept,
    read_objects,
    types_the_file_uses,
    unmanaged_objects,
)
from mmschema.plan import Plan, make_plan
from mmschema.preflight import preflight
from mmschema.references import outside_reference_problems


@dataclass
class Planned:
    plan: Plan
    live: Catalog  # as read from the target
    desired: Catalog  # as the scratch server prints it
    declared: int = 0  # present tables in the file
    on_scratch: int = 0  # of them, those the scratch server had to normalize


def listed_unmanaged(
    conn: psycopg.Connection[Any], desired: DesiredState, live: Catalog
) -> tuple[Unmanaged, ...]:
    """The live objects of the managed tables and schemas the file does not declare."""
    used = types_the_file_uses(desired)
    unmanaged = unmanaged_objects(conn, live, desired.objects, used)
    return undeclared_objects(conn, desired, live, unmanaged, used)


def compute_plan(
    conn: psycopg.Connection[Any],
    desired: DesiredState,
    scratch: Scratch,
    cache: NormalizeCache,
    target_label: str,
    prune: bool = False,
    early: CatalogAhead | None = None,
) -> Planned:
    names = managed_names(desired)
    read = early.catalog(names) if early is not None else None
    if read is None:
        read = read_catalog(conn, names)
    live = replace(read, objects=read_objects(conn, desired.objects))
    settle()
    declared_routines = {o.key for o in desired.objects if isinstance(o, ManagedRoutine)}
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Listing the undeclared objects is mostly the server's work, normalizing the file
        # this process's: one runs while the other waits (the file's normalization does
        # not look at them).
        listing = pool.submit(listed_unmanaged, conn, desired, live)

        def live_functions() -> list[str]:
            listing.result()  # the connection is free again
            return read_function_definitions(conn, declared_routines)

        normalized = normalize_file(desired, scratch, cache, live, live_functions)
        live = replace(live, unmanaged=listing.result())
    wanted = normalized.catalog
    settle()
    adopted = serials_adopted(live, wanted, desired)
    live = called_by_defaults_kept(live, wanted)
    unreachable = outside_reference_problems(conn, desired, wanted)
    unreachable += owner_problems(conn, desired)
    if unreachable:
        raise InvalidFile(unreachable)

    def compared(live: Catalog) -> tuple[bool, DiffResult]:
        """Whether an online type change is in flight, and the diff."""
        comparable = TABLES.without_work_in_flight(live)
        in_flight = comparable is not live
        if wanted.tables and major(live.server_version) != major(wanted.server_version):
            # Put the live side through the same server, so no printing difference
            # between major versions shows up as a change.
            comparable = normalize_live(comparable, scratch, cache)
        return in_flight, diff(comparable, wanted, desired, prune)

    in_flight, result = compared(live)
    if TABLES.needs_dependents(result.changes):
        # Most plans drop and retype nothing: only those read the policies and the
        # dependents that such a change takes along or must make again.
        live = with_dependents(conn, live, names)
        in_flight, result = compared(live)
    changes = with_privileges_kept(conn, [*result.changes, *adopted], desired.objects)
    result.changes = TABLES.completed(conn, live, desired, changes, in_flight)
    plan = preflight(conn, make_plan(result, live, target_label), live)
    return Planned(plan, live, wanted, normalized.declared, normalized.on_scratch)
