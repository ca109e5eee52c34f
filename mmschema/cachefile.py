"""Signed cache files: pickled results that only this user's mmschema wrote are read back.

A warm plan must cost little more than the catalog read (bench/plan_speed.py), and
decoding JSON into thousands of dataclasses costs more than the read itself; pickle is
fast. Pickle must never load bytes someone else wrote, so every file carries an HMAC
under a random key kept in the user's own cache directory (mode 0600).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import hmac
import os
import pickle
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from mmschema.collector import paused, settle
from mmschema.userdirs import PROJECT_DIR, signing_key_file

DIGEST_SIZE = hashlib.sha256().digest_size
SUFFIX = ".pickle"
# Entries unused this long are removed, and a directory keeps at most this many, this big.
MAX_AGE_S = 30 * 24 * 3600
MAX_ENTRIES = 1000
MAX_BYTES = 1 << 30
IGNORE_ALL = "# written by mmschema: nothing in here belongs in version control\n*\n"


def key_path() -> Path:
    """Where this process's signing key is kept (see userdirs.signing_key_file)."""
    return signing_key_file()


def signing_key() -> bytes | None:
    """This user's key, made on first use; None when it cannot be kept (no caching then)."""
    return key_at(key_path())


@cache
def key_at(path: Path) -> bytes | None:
    """The key kept at `path`, made there on first use."""
    try:
        return path.read_bytes() or None
    except FileNotFoundError:
        pass
    except OSError:  # unreadable: work without the cache rather than fail
        return None
    try:
        make_directory(path.parent)
        key = os.urandom(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key)
        return key
    except FileExistsError:  # another process made it first
        with contextlib.suppress(OSError):
            return path.read_bytes() or None
        return None
    except OSError:
        return None


def read(path: Path) -> object | None:
    """What write() stored at path, or None if missing, damaged or not signed by us."""
    key = signing_key()
    if key is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    signature, payload = data[:DIGEST_SIZE], data[DIGEST_SIZE:]
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        with paused():
            value: object = pickle.loads(payload)
            settle()  # what was just built lives as long as the command
    except Exception:  # a file from another version of the classes
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # pruning removes the least recently used entries first
    return value


def write(path: Path, value: object) -> None:
    """Store value at path atomically; a cache that cannot be written only costs speed."""
    key = signing_key()
    if key is None:
        return
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    signature = hmac.new(key, payload, hashlib.sha256).digest()
    try:
        make_directory(path.parent)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(signature + payload)
        temporary.replace(path)
    except OSError:
        return
    prune(path.parent)


def make_directory(directory: Path) -> None:
    """Create `directory` with its parents; the topmost one created, and any `.mmschema/` on
    the way, get a .gitignore that keeps everything in them out of git."""
    missing = []
    for parent in [directory, *directory.parents]:
        if parent.is_dir():
            break
        missing.append(parent)
    directory.mkdir(parents=True, exist_ok=True)
    tops = [missing[-1]] if missing else []
    tops += [d for d in [directory, *directory.parents] if d.name == PROJECT_DIR]
    for top in tops:
        ignore = top / ".gitignore"
        if not ignore.exists():
            with contextlib.suppress(OSError):
                ignore.write_text(IGNORE_ALL)


def prune(directory: Path, now: float | None = None) -> None:
    """Remove entries unused for MAX_AGE_S, then the least recently used beyond
    MAX_ENTRIES or MAX_BYTES, and temporary files that writers left behind."""
    now = time.time() if now is None else now
    entries: list[tuple[float, int, Path]] = []
    with contextlib.suppress(OSError), os.scandir(directory) as found:
        for entry in found:
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                if entry.name.endswith(SUFFIX) and entry.is_file(follow_symlinks=False):
                    entries.append((st.st_mtime, st.st_size, Path(entry.path)))
                elif entry.name.endswith(".tmp") and now - st.st_mtime > 3600:
                    os.unlink(entry.path)
    entries.sort(reverse=True)
    total = 0
    for count, (used, size, path) in enumerate(entries):
        total += size
        if now - used > MAX_AGE_S or count >= MAX_ENTRIES or (count and total > MAX_BYTES):
            with contextlib.suppress(OSError):
                path.unlink()


def digest(value: object) -> str:
    """A SHA-256 of `value` that is the same in every process (no hash-seed dependence):
    sets and dict items are encoded in sorted order, dataclasses field by field."""
    return hashlib.sha256(stable_text(value).encode()).hexdigest()


def stable_text(value: object) -> str:
    """`value` as text that does not depend on set iteration order (see digest)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def _encode(value: object, out: list[str]) -> None:
    encoder = _ENCODERS.get(type(value))
    if encoder is None:
        encoder = _encoder_for(type(value))
        _ENCODERS[type(value)] = encoder
    encoder(value, out)


def _encoder_for(kind: type) -> Callable[[Any, list[str]], None]:
    if issubclass(kind, enum.Enum):
        return lambda value, out: out.append(f"{kind.__qualname__}.{value.name}")
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))
        label = f"{kind.__module__}.{kind.__qualname__}("

        def dataclass_text(value: Any, out: list[str]) -> None:
            out.append(label)
            for name in names:
                _encode(getattr(value, name), out)
                out.append(",")
            out.append(")")

        return dataclass_text
    for base, encoder in _BASE_ENCODERS.items():
        if issubclass(kind, base):
            return encoder
    raise TypeError(f"no stable encoding for {kind.__qualname__}")


def _sequence_text(value: Any, out: list[str]) -> None:
    out.append("[")
    for item in value:
        _encode(item, out)
        out.append(",")
    out.append("]")


def _set_text(value: Any, out: list[str]) -> None:
    out.append("{" + ",".join(sorted(stable_text(item) for item in value)) + "}")


def _dict_text(value: Any, out: list[str]) -> None:
    items = sorted(stable_text(k) + ":" + stable_text(v) for k, v in value.items())
    out.append("<" + ",".join(items) + ">")


def _atom_text(value: Any, out: list[str]) -> None:
    out.append(repr(value))


_BASE_ENCODERS: dict[type, Callable[[Any, list[str]], None]] = {
    str: _atom_text,
    bool: _atom_text,
    int: _atom_text,
    float: _atom_text,
    bytes: _atom_text,
    type(None): _atom_text,
    tuple: _sequence_text,
    list: _sequence_text,
    frozenset: _set_text,
    set: _set_text,
    dict: _dict_text,
}
_ENCODERS: dict[type, Callable[[Any, list[str]], None]] = {}
