"""The target's catalog read, started before the cached file is unpickled, in a thread.

A warm plan takes its file from the cache (desired/cache.py), and unpickling it costs about
as much CPU as the catalog read costs the server. The file's table names are kept beside it
(under the same key), so the read can start first and the file be unpickled meanwhile:
psycopg waits for the server without holding the GIL. The unpickled file's names are
compared with the kept ones; when they differ, the read is not used.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import psycopg

from mmschema.introspect import read_catalog
from mmschema.model import Catalog, QualifiedName


class CatalogAhead(Protocol):
    """A catalog read started before the file's names were certain (this, cold_read.py)."""

    def catalog(self, names: list[QualifiedName]) -> Catalog | None: ...


class EarlyRead:
    """read_catalog(conn, names) running in a thread; `conn` is the thread's until it ends."""

    def __init__(self, conn: psycopg.Connection[Any], names: list[QualifiedName]) -> None:
        self.conn = conn
        self.names = names
        self._catalog: Catalog | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, name="mmschema-read", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._catalog = read_catalog(self.conn, self.names)
        except BaseException as error:  # raised again in the caller's thread
            self._error = error

    def wait(self) -> None:
        self._thread.join()

    def catalog(self, names: list[QualifiedName]) -> Catalog | None:
        """The catalog read for `names` (None when the read was of other names)."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._catalog if names == self.names else None


@contextlib.contextmanager
def early_read(
    conn: psycopg.Connection[Any], names: list[QualifiedName] | None
) -> Iterator[EarlyRead | None]:
    """An EarlyRead of `names` (None: nothing to start); the thread has ended on the way
    out, whatever happened inside, so the connection is the caller's again."""
    if names is None:
        yield None
        return
    read = EarlyRead(conn, names)
    try:
        yield read
    finally:
        read.wait()
