"""Cache files are read back only when this user's key signed them."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mmschema import cachefile


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    cachefile.key_at.cache_clear()


def test_a_written_value_reads_back_and_the_key_is_private(tmp_path: Path) -> None:
    path = tmp_path / "c" / "value.pickle"
    cachefile.write(path, {"tables": (1, 2)})
    assert cachefile.read(path) == {"tables": (1, 2)}
    assert cachefile.key_path().stat().st_mode & 0o777 == 0o600


def test_a_file_not_signed_by_us_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "planted.pickle"
    payload = pickle.dumps(["would run code on load"])
    path.write_bytes(b"\0" * cachefile.DIGEST_SIZE + payload)
    assert cachefile.read(path) is None
    cachefile.write(path, "ours")
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    assert cachefile.read(path) is None


def test_missing_file_is_none(tmp_path: Path) -> None:
    assert cachefile.read(tmp_path / "nothing.pickle") is None


def test_an_unreadable_key_means_no_cache_not_a_traceback(tmp_path: Path) -> None:
    key = tmp_path / "cache.key"
    key.mkdir()  # a key the process cannot read as a file
    assert cachefile.key_at(key) is None


def test_a_checked_file_comes_back_from_the_cache_the_same_in_parts(tmp_path: Path) -> None:
    """The tables are kept in parts (unpickled one at a time: the catalog read's thread gets
    the GIL in between); the file read back is the one checked, tables in their order."""
    from mmschema.desired.cache import TABLES_PER_PART
    from mmschema.desired.load import load_desired

    count = TABLES_PER_PART * 2 + 3
    lines = ["version: 1", "tables:"]
    for i in range(count):
        lines += [f"  t{i}:", "    columns:", "      id: {type: bigint}", "    primary_key: [id]"]
    path = tmp_path / "schema.yaml"
    path.write_text("\n".join(lines) + "\n")
    cache = tmp_path / "cache"
    checked = load_desired(path, cache)
    kept = list(cache.glob("*.pickle"))
    assert len(kept) == 1
    warm = load_desired(path, cache)
    assert warm == checked
    assert [t.name.name for t in warm.tables] == [f"t{i}" for i in range(count)]
    parts = cachefile.read(kept[0])
    assert isinstance(parts, tuple)
    assert len(parts[1]) == 3
