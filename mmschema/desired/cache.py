"""A checked file, kept by its content's digest, so a warm plan skips parsing and validation."""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import replace
from pathlib import Path

from mmschema import __version__, cachefile
from mmschema.collector import paused, settle
from mmschema.desired.declared import DeclaredTable, DesiredState
from mmschema.model import QualifiedName

CACHE_FORMAT = "6"  # 5: Privileges.entries; 6: the tables in parts
# The tables are pickled in parts of this many and unpickled one part at a time: one
# pickle.loads of them all would hold the GIL for its whole ~0.2 s (at 5,000 tables), while
# the catalog read's thread (early_read.py) waits to build the rows its server sent.
TABLES_PER_PART = 100


def cache_key(files: list[tuple[str, str]]) -> str:
    text = json.dumps([CACHE_FORMAT, __version__, files])
    return hashlib.sha256(text.encode()).hexdigest()


def cached_state(directory: Path, files: list[tuple[str, str]]) -> DesiredState | None:
    """The DesiredState these exact files loaded to before (only valid files are kept)."""
    kept = cachefile.read(directory / f"{cache_key(files)}.pickle")
    if not isinstance(kept, tuple) or len(kept) != 2:
        return None
    state, parts = kept
    if not isinstance(state, DesiredState) or not isinstance(parts, list):
        return None
    tables: list[DeclaredTable] = []
    try:
        with paused():
            for part in parts:  # signed with the rest (cachefile.read checked it)
                tables += pickle.loads(part)
            settle()
    except Exception:  # a file from another version of the classes
        return None
    return replace(state, tables=tuple(tables))


def keep_state(directory: Path, files: list[tuple[str, str]], state: DesiredState) -> None:
    tables = state.tables
    parts = [
        pickle.dumps(tables[first : first + TABLES_PER_PART], protocol=pickle.HIGHEST_PROTOCOL)
        for first in range(0, len(tables), TABLES_PER_PART)
    ]
    cachefile.write(directory / f"{cache_key(files)}.pickle", (replace(state, tables=()), parts))


def cached_names(directory: Path, files: list[tuple[str, str]]) -> list[QualifiedName] | None:
    """The table names a plan of these exact files read (early_read.py), if kept."""
    names = cachefile.read(directory / f"{cache_key(files)}.names.pickle")
    return names if isinstance(names, list) else None


def keep_names(directory: Path, files: list[tuple[str, str]], names: list[QualifiedName]) -> None:
    cachefile.write(directory / f"{cache_key(files)}.names.pickle", names)
