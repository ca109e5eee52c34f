"""Signed cache files: pickled results that only this user's mmschema wrote are read back.

A warm plan must cost little more than the catalog read (bench/plan_speed.py), and
decoding JSON into thousands of dataclasses costs more than the read itself; pickle is
fast. Pickle must never load bytes someone else wrote, so every file carries an HMAC
under a random key kept in the user's own cache directory (mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
from functools import cache
from pathlib import Path

DIGEST_SIZE = hashlib.sha256().digest_size


def key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmschema" / "cache.key"


@cache
def signing_key() -> bytes | None:
    """This user's key, made on first use; None when it cannot be kept (no caching then)."""
    path = key_path()
    try:
        return path.read_bytes()
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key)
        return key
    except FileExistsError:
        return path.read_bytes()
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
        value: object = pickle.loads(payload)
    except Exception:  # a file from another version of the classes
        return None
    return value


def write(path: Path, value: object) -> None:
    """Store value at path atomically; a cache that cannot be written only costs speed."""
    key = signing_key()
    if key is None:
        return
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    signature = hmac.new(key, payload, hashlib.sha256).digest()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(signature + payload)
        temporary.replace(path)
    except OSError:
        pass
