"""Python's cyclic garbage collector in a command process: off while results are built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# When it runs (apply's steps), the collector runs after every this many allocations (not
# Python's 700): a plan of 20,000 tables builds millions of long-lived objects, and with
# the default thresholds collecting them over and over took half of a plan's CPU time.
GC_THRESHOLDS = (100_000, 50, 1000)

_in_command_process = False


def command_process() -> None:
    """This process runs one command and exits. What a plan builds (the file, the catalog,
    the normalized tables) lives until the end and holds no garbage cycles worth
    collecting, yet the collector traversed it again and again: 0.5-1 s of CPU of a cold
    5,000-table plan. So it is off until long_running() turns it on again."""
    global _in_command_process
    gc.set_threshold(*GC_THRESHOLDS)
    gc.disable()
    _in_command_process = True


def settle() -> None:
    """Called after a big result is built that lives as long as the command (the cached
    file, the catalog read, the normalized file): should the collector run later, it
    leaves what exists now alone (gc.freeze). Only in a command process: a library
    caller's objects are left to its own collector."""
    if _in_command_process:
        gc.freeze()


def long_running() -> None:
    """Before a part that may run for hours (apply's steps): garbage cycles are collected
    again, among the objects made from now on."""
    if _in_command_process:
        gc.freeze()
        gc.enable()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic garbage collection inside, in any process: building hundreds of thousands
    of objects at once (unpickling a big file, a big catalog read's rows and tables),
    collecting between them doubles the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
