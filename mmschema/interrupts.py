"""Ctrl-C and SIGTERM where no command handles them (modules loading, the exit): one line,
exit 130 (143 for SIGTERM); inside a command, both raise KeyboardInterrupt."""

from __future__ import annotations

import os
import signal
from types import FrameType

INTERRUPTED = 130
TERMINATED = 143
LINE = b"mmschema: interrupted\n"
TERMINATED_LINE = b"mmschema: terminated\n"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C (so every handler of KeyboardInterrupt runs); exit 143."""


def leave_at_once(signum: int = signal.SIGINT, frame: FrameType | None = None) -> None:
    """One line on stderr and exit 130 (143 for SIGTERM): nothing was started that needs
    undoing."""
    if signum == signal.SIGTERM:
        os.write(2, TERMINATED_LINE)
        os._exit(TERMINATED)
    os.write(2, LINE)
    os._exit(INTERRUPTED)


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def quiet_until_command() -> None:
    """Until the command runs (and again once it is done) Ctrl-C and SIGTERM leave at once:
    a KeyboardInterrupt raised inside an import would print a traceback of the import, and
    SIGTERM's default would end the process without a word."""
    signal.signal(signal.SIGINT, leave_at_once)
    signal.signal(signal.SIGTERM, leave_at_once)


def command_may_be_interrupted() -> None:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt (Terminated) again, so that the command
    cleans up (closes its transaction, records the run) and says so; only where
    quiet_until_command set them."""
    if signal.getsignal(signal.SIGINT) is leave_at_once:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is leave_at_once:
        signal.signal(signal.SIGTERM, raise_terminated)
