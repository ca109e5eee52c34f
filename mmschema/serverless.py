"""`plan --from` a YAML state without any server, when both files are spelled canonically.

Both files' tables are built as the scratch server would read them back (canonical.py);
the SOURCE's are what a fresh database made from it would hold. Only changes that need
no catalog or data of a live server (no type change, no sequence work) are planned this
way; anything else returns None and the state is built on the scratch server as before.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from mmschema.desired.declared import DesiredState
from mmschema.desired.load import load_desired
from mmschema.diff import diff
from mmschema.kinds.tables import column_changes as cc
from mmschema.model import Catalog
from mmschema.normalize import NormalizeCache, Scratch, normalize_file
from mmschema.plan import make_plan
from mmschema.planner import Planned
from mmschema.sources import Source

# Changes whose planning reads the live server (pg_cast, sequence positions, row states).
NEEDS_SERVER = (
    cc.AlterColumnType,
    cc.AlterColumnIdentity,
    cc.AlterColumnDefault,
    cc.AlterSequenceType,
    cc.CreateOwnedSequence,
)


def load_source_state(source: Source) -> DesiredState | None:
    """The SOURCE's YAML as a checked file; None for SQL sources."""
    if source.yaml_path is not None:
        return load_desired(source.yaml_path)
    if not source.yaml_files:
        return None
    with tempfile.TemporaryDirectory(prefix="mmschema-source-") as directory:
        for position, (name, text) in enumerate(source.yaml_files):
            (Path(directory) / f"{position:03d}-{Path(name).stem}.yaml").write_text(text)
        return load_desired(Path(directory))


def all_canonical(state: DesiredState, scratch: Scratch, cache: NormalizeCache) -> Catalog | None:
    if state.enums or state.extensions:
        return None
    normalized = normalize_file(state, scratch, cache, Catalog(), never)
    return normalized.catalog if normalized.on_scratch == 0 else None


def never() -> list[str]:
    raise AssertionError("a canonical file reads no functions")


def plan_without_server(
    source: Source,
    desired: DesiredState,
    scratch: Scratch,
    cache: NormalizeCache,
    label: str,
    prune: bool,
) -> Planned | None:
    """The plan of `desired` against the state SOURCE declares, or None when a server is needed."""
    state = load_source_state(source)
    if state is None or desired.enums or desired.extensions:
        return None
    from mmschema.canonical import canonical_tables

    for file in (state, desired):
        present = file.present_tables()
        if len(canonical_tables(present)) != len(present):
            return None
    built = all_canonical(state, scratch, cache)
    if built is None:
        return None
    # What a fresh database made from SOURCE holds besides its tables.
    schemas = frozenset({"public", *(name.schema for name in built.tables)})
    live = replace(built, extensions=frozenset({"plpgsql"}), schemas=schemas)
    normalized = normalize_file(desired, scratch, cache, live, never)
    if normalized.on_scratch:
        return None
    result = diff(live, normalized.catalog, desired, prune)
    if any(isinstance(change, NEEDS_SERVER) for change in result.changes):
        return None
    plan = make_plan(result, live, label)
    return Planned(plan, live, normalized.catalog, normalized.declared, 0)
