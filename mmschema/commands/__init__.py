"""One function per subcommand: library calls in order, then rendering and an exit status."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from mmschema.command_base import ExitStatus
    from mmschema.environment import Environment

Handler = Callable[["argparse.Namespace", "Environment"], "ExitStatus"]


def handler(command: str) -> Handler:
    """The function that runs `command`, importing only its own module: a plan loads none
    of apply's, the embedded server's or the importer's modules."""
    if command == "apply":
        from mmschema.commands.applying import apply

        return apply
    if command == "drift":
        from mmschema.commands.drifting import drift

        return drift
    if command == "fmt":
        from mmschema.commands.formatting import fmt

        return fmt
    if command == "history":
        from mmschema.commands.runs import history

        return history
    if command == "server":
        from mmschema.commands.serving import server

        return server
    from mmschema.commands import planning

    reading: dict[str, Handler] = {
        "validate": planning.validate,
        "schema": planning.schema,
        "plan": planning.plan,
        "dump": planning.dump,
        "import": planning.import_schema,
    }
    return reading[command]
