"""A cold plan's (or drift's) catalog read, run in a thread while the file is checked.

A file not planned before is parsed, validated and built (seconds of this process's CPU at
thousands of tables) before its table names are certain; the catalog read is mostly the
server's work. So the names are taken early from the file's text (the keys under
`tables:`, as `dump` and `fmt` write them) and the read runs meanwhile: psycopg waits for
the server without holding the GIL. Nothing of it is shown: once the file is checked, the
read is used when the file's names are the ones read and the target is the one connected;
otherwise (or when anything failed) the plan connects and reads as it always did, and says
what is wrong in its own words.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

import psycopg

from mmschema.connect import connect
from mmschema.desired.checks import BadName, parse_table_name
from mmschema.introspect import read_catalog
from mmschema.model import Catalog, QualifiedName
from mmschema.readguard import bounded_reads

TABLES_LINE = re.compile(r"^tables:[ \t]*(#.*)?$", re.MULTILINE)
KEY_LINE = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_$.]*):(?:[ \t].*)?")
# Words that change which names a file's tables read (a rename's old name; a partition's
# place in the read order): a file holding them is read after it is checked.
UNSURE = ("renamed_from", "partition_of")


def table_names_in_text(text: str) -> list[QualifiedName] | None:
    """The keys of the top-level `tables:` block mapping in file order, when each is a plain
    name on its own line; None when the text is laid out otherwise (nothing is guessed)."""
    if any(word in text for word in UNSURE) or "\t" in text:
        return None
    found = TABLES_LINE.search(text)
    if found is None:
        return None
    names: list[QualifiedName] = []
    indent = 0
    for line in text[found.end() :].splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(line) - len(stripped)
        if depth == 0:
            break  # the next top-level key
        indent = indent or depth
        if depth > indent:
            continue  # inside a table
        key = KEY_LINE.fullmatch(stripped)
        if depth < indent or key is None:
            return None
        try:
            names.append(parse_table_name(key["key"], "public"))
        except BadName:
            return None
    return names or None


class ColdRead:
    """connect(dsn) and read_catalog(names) in a thread, with a plan's read limits."""

    def __init__(
        self, dsn: str, env: Mapping[str, str], what: str, label: str, names: list[QualifiedName]
    ) -> None:
        self.dsn = dsn
        self.names = names
        self._env = env
        self._what = what
        self._label = label
        self._conn: psycopg.Connection[Any] | None = None
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self._abandoned = False
        self._thread = threading.Thread(target=self._read, name="mmschema-cold-read", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            conn = connect(self.dsn)
        except Exception:
            return
        try:
            with bounded_reads(conn, self._env, self._what, self._label):
                self._catalog = read_catalog(conn, self.names)
        except Exception:
            conn.close()
            return
        with self._lock:
            if self._abandoned:
                conn.close()
            else:
                self._conn = conn

    def connection(self, dsn: str) -> psycopg.Connection[Any] | None:
        """The connection the read was made on, if it was made and to this target; after
        this call it is the caller's to close."""
        self._thread.join()
        conn, self._conn = self._conn, None
        if conn is not None and dsn != self.dsn:
            conn.close()
            return None
        return conn

    def catalog(self, names: list[QualifiedName]) -> Catalog | None:
        """The catalog read, when it was read for these names (None otherwise)."""
        self._thread.join()
        return self._catalog if names == self.names else None

    def close(self) -> None:
        """The read is not wanted (the file is wrong, or Ctrl-C): its connection is closed
        now or when the read ends, without waiting for it."""
        with self._lock:
            self._abandoned = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
