"""One function per subcommand: library calls in order, then rendering and an exit status."""

from mmschema.commands.applying import apply
from mmschema.commands.common import consoles, make_plan, output_format, show_plan
from mmschema.commands.drifting import drift
from mmschema.commands.formatting import fmt
from mmschema.commands.planning import dump, import_schema, plan, schema, validate
from mmschema.commands.runs import history
from mmschema.commands.serving import server

__all__ = [
    "apply",
    "consoles",
    "drift",
    "dump",
    "fmt",
    "history",
    "import_schema",
    "make_plan",
    "output_format",
    "plan",
    "schema",
    "server",
    "show_plan",
    "validate",
]
