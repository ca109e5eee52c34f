"""Python's cyclic garbage collector in a command process: big results built once, frozen."""

from __future__ import annotations

import gc

# The process's cyclic garbage collector runs after every this many allocations (not
# Python's 700): a plan of 20,000 tables builds millions of long-lived objects (the
# catalog, the file, the cached results), and with the default thresholds collecting
# them over and over took half of a warm plan's CPU time. Garbage cycles are still
# collected, in the young generations.
GC_THRESHOLDS = (100_000, 50, 1000)

_in_command_process = False


def command_process() -> None:
    """This process runs one command and exits: collect rarely, and let settle() freeze."""
    global _in_command_process
    gc.set_threshold(*GC_THRESHOLDS)
    _in_command_process = True


def settle() -> None:
    """Called after a big result is built that lives as long as the command (the cached
    file, the catalog read, the normalized file): the collector stops traversing what
    exists now (gc.freeze). Traversing them again at every collection cost a warm plan of
    5,000 tables about 0.3 s of CPU. Only in a command process: a library caller's objects
    are left to its own collector."""
    if _in_command_process:
        gc.freeze()
