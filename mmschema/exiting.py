"""How a command process ends: output flushed, connections closed, then at once (os._exit)."""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from typing import Any, NoReturn, Protocol

from mmschema.closedpipe import flush_standard_streams


class Closable(Protocol):
    @property
    def closed(self) -> bool: ...

    def close(self) -> None: ...


# The connections mmschema opened (connect.py); a command closes its own, these are closed
# here should one be left open, so that the server sees a proper goodbye.
_connections: weakref.WeakSet[Any] = weakref.WeakSet()


def track(connection: Closable) -> None:
    _connections.add(connection)


def leave(status: int) -> NoReturn:
    """End the process with `status`. Python's own exit frees every object one by one: the
    millions a 5,000-table plan built cost ~0.1 s of CPU for nothing. So once the atexit
    handlers have run, the open connections are closed and the output is flushed, the
    process ends without that; with another thread still working, it exits as usual."""
    others = [
        t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon
    ]
    if others or threading.current_thread() is not threading.main_thread():
        sys.exit(status)
    atexit._run_exitfuncs()
    for connection in list(_connections):
        if not connection.closed:
            connection.close()
    flush_standard_streams()
    os._exit(status)
