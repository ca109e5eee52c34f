"""A checked file, kept by its content's digest, so a warm plan skips parsing and validation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mmschema import __version__, cachefile
from mmschema.desired.declared import DesiredState
from mmschema.model import QualifiedName

CACHE_FORMAT = "5"  # 5: Privileges.entries


def cache_key(files: list[tuple[str, str]]) -> str:
    text = json.dumps([CACHE_FORMAT, __version__, files])
    return hashlib.sha256(text.encode()).hexdigest()


def cached_state(directory: Path, files: list[tuple[str, str]]) -> DesiredState | None:
    """The DesiredState these exact files loaded to before (only valid files are kept)."""
    state = cachefile.read(directory / f"{cache_key(files)}.pickle")
    return state if isinstance(state, DesiredState) else None


def keep_state(directory: Path, files: list[tuple[str, str]], state: DesiredState) -> None:
    cachefile.write(directory / f"{cache_key(files)}.pickle", state)


def cached_names(directory: Path, files: list[tuple[str, str]]) -> list[QualifiedName] | None:
    """The table names a plan of these exact files read (early_read.py), if kept."""
    names = cachefile.read(directory / f"{cache_key(files)}.names.pickle")
    return names if isinstance(names, list) else None


def keep_names(directory: Path, files: list[tuple[str, str]], names: list[QualifiedName]) -> None:
    cachefile.write(directory / f"{cache_key(files)}.names.pickle", names)
