"""The embedded server's idle watcher: `python -m mmschema.idlestop STATE_DIR`, started
detached by mmschema.embedded; it stops the server once idle, then exits."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m mmschema.idlestop STATE_DIR", file=sys.stderr)
        return 1
    # The starter waits for this process only; the forked watcher is adopted by init.
    if os.fork() > 0:
        os._exit(0)
    from mmschema.embedded import home_at, watch_until_idle, watcher_lock

    root = Path(argv[1])
    with watcher_lock(root) as ours:
        if ours:
            watch_until_idle(home_at(root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
