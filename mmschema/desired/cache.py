"""A checked file, kept by its content's digest, so a warm plan skips parsing and validation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mmschema import __version__
from mmschema.codec import from_plain, to_plain
from mmschema.desired.declared import DesiredState

CACHE_FORMAT = "1"


def cache_key(files: list[tuple[str, str]]) -> str:
    text = json.dumps([CACHE_FORMAT, __version__, files])
    return hashlib.sha256(text.encode()).hexdigest()


def cached_state(directory: Path, files: list[tuple[str, str]]) -> DesiredState | None:
    """The DesiredState these exact files loaded to before (only valid files are kept)."""
    try:
        data = json.loads((directory / f"{cache_key(files)}.json").read_text())
        return from_plain(DesiredState, data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def keep_state(directory: Path, files: list[tuple[str, str]], state: DesiredState) -> None:
    key = cache_key(files)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{key}.tmp"
        temporary.write_text(json.dumps(to_plain(state)))
        temporary.replace(directory / f"{key}.json")
    except OSError:
        pass  # a cache that cannot be written only costs speed
