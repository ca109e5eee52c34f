"""The installed command's entry point: Ctrl-C is handled before any heavy module loads."""

from __future__ import annotations

from mmschema.interrupts import leave_at_once, quiet_until_command


def run() -> None:
    quiet_until_command()
    try:
        from mmschema.cli import run as run_command

        run_command()
    except KeyboardInterrupt:  # one that came between the command's handler and the exit
        leave_at_once()
