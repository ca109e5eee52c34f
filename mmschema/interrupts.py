"""Ctrl-C where no command handles it (modules loading, the exit): one line, exit 130."""

from __future__ import annotations

import os
import signal
from types import FrameType

INTERRUPTED = 130
LINE = b"mmschema: interrupted\n"


def leave_at_once(signum: int = signal.SIGINT, frame: FrameType | None = None) -> None:
    """One line on stderr and exit 130: nothing was started that needs undoing."""
    os.write(2, LINE)
    os._exit(INTERRUPTED)


def quiet_until_command() -> None:
    """Until the command runs (and again once it is done) Ctrl-C leaves at once: a
    KeyboardInterrupt raised inside an import would print a traceback of the import."""
    signal.signal(signal.SIGINT, leave_at_once)


def command_may_be_interrupted() -> None:
    """Ctrl-C raises KeyboardInterrupt again, so that the command cleans up (closes its
    transaction, records the run) and says so; only where quiet_until_command set it."""
    if signal.getsignal(signal.SIGINT) is leave_at_once:
        signal.signal(signal.SIGINT, signal.default_int_handler)
