"""The command line: parses arguments, calls the library, renders, returns an exit status."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO, cast

from mmschema import __version__
from mmschema.command_base import (
    ExitStatus,
    UsageError,
    file_name,
    load_file,
    parse_kinds,
    print_json,
    target_for,
)
from mmschema.environment import Environment
from mmschema.hazard_kinds import HAZARD_KINDS, HAZARD_MEANINGS
from mmschema.interrupts import (
    INTERRUPTED,
    TERMINATED,
    Terminated,
    command_may_be_interrupted,
    quiet_until_command,
)
from mmschema.userdirs import cache_dir

# Importing anything heavy (psycopg, rich, pglast) waits until a command runs, so that
# `--version` and `--help` answer at once; the names above are kept for older importers.
__all__ = [
    "ExitStatus",
    "UsageError",
    "build_parser",
    "file_name",
    "load_file",
    "main",
    "parse_kinds",
    "print_json",
    "run",
    "target_for",
]


PLAN_FORMATS = ["text", "json", "sql", "markdown"]

EXAMPLES = """\
examples:
  mmschema validate                        check schema.yaml; touches no database
  mmschema plan -d "$DATABASE_URL"         what would change, with locks and hazards
  mmschema apply -d "$DATABASE_URL" --yes  run it (asks for "yes" on a terminal)
  mmschema drift --format prometheus       exit 2 when the database moved away
  mmschema dump > schema.yaml              start from an existing database
  mmschema import base.sql migrations/ -o schema.yaml
                                           adopt a folder of SQL migrations, its base first

exit codes: 0 ok, 1 error, 2 changes pending (plan --detailed-exitcode) or drift,
3 refused (a hazard not allowed, a stale saved plan, declined).
Without -d: $MMSCHEMA_DATABASE_URL, $DATABASE_URL, the PG* variables (also from ./.env),
else the embedded PostgreSQL. The reference is docs/reference.md in the repository.
"""


def hazard_help() -> str:
    """The hazard kinds and what each means, for the epilog of plan and apply."""
    lines = [f"  {kind:<13} {HAZARD_MEANINGS[kind]}" for kind in HAZARD_KINDS]
    return "hazard kinds (for --allow, --fail-on and settings.allow):\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmschema",
        description="Keep PostgreSQL schemas in a declared state.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mmschema {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, help_text: str, database: bool = True, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "-f",
            "--file",
            default=None,
            help="schema file, or a directory of them (default: schema.yaml)",
        )
        if database:
            sub.add_argument("-d", "--database", help="target DSN (default: env, then embedded)")
            sub.add_argument("--dev-database", help="scratch server DSN used to normalize")
        return sub

    command("validate", "check the file; touches no database", database=False)
    fmt = command(
        "fmt",
        "rewrite the file's SQL values (types, defaults, checks, ...) as PostgreSQL prints "
        "them, keeping comments and order",
        database=False,
    )
    fmt.add_argument("--dev-database", help="scratch server DSN used to normalize")
    fmt.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a file would change"
    )
    commands.add_parser(
        "schema",
        help="print the file format's JSON Schema",
        description="Print the JSON Schema of schema.yaml (for editors and CI checks).",
    )
    plan = command(
        "plan",
        "print the changes and their DDL; changes nothing",
        epilog=hazard_help()
        + "\n\nexamples:\n  mmschema plan --detailed-exitcode      exit 2 when changes pend"
        "\n  mmschema plan --fail-on destructive    exit 3 on a destructive change"
        "\n  mmschema plan --out plan.json && mmschema apply plan.json --yes",
    )
    plan.add_argument(
        "--format",
        choices=[*PLAN_FORMATS, "prometheus"],
        default=None,
        help="default: text; prometheus only with -i",
    )
    plan.add_argument("--out", help="also save the plan as JSON here, for apply PLANFILE")
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when changes pend")
    plan.add_argument(
        "--fail-on", default="", help="hazard kinds that make plan exit 3, comma-separated"
    )
    plan.add_argument(
        "--prune", action="store_true", help="plan dropping the unmanaged objects too"
    )
    plan.add_argument(
        "--rehearse", action="store_true", help="run the plan first on a scratch copy"
    )
    plan.add_argument(
        "--from",
        dest="from_source",
        metavar="SOURCE",
        help="plan against a state built on the scratch server from SOURCE (a schema.yaml or "
        "folder of them, a SQL file, a folder of .sql migrations, or git:REV:PATH)",
    )
    apply = command(
        "apply",
        "run the plan",
        epilog=hazard_help()
        + "\n\nexamples:\n  mmschema apply --yes --allow rewrite    in CI, allowing a rewrite"
        "\n  mmschema apply plan.json --yes          exactly a plan saved by plan --out"
        "\n  mmschema apply --revision 3 --yes       back to the file run 3 applied",
    )
    apply.add_argument(
        "planfile", nargs="?", help="a plan saved by plan --out: run exactly its statements"
    )
    apply.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    apply.add_argument(
        "--allow", default="", help="hazard kinds to allow, comma-separated (see below)"
    )
    apply.add_argument("--prune", action="store_true", help="drop unmanaged objects")
    apply.add_argument(
        "--lock-wait",
        type=float,
        default=60.0,
        help="seconds to wait for another apply (default: %(default)s)",
    )
    apply.add_argument(
        "--lock-timeout", help="per-statement lock_timeout, e.g. 3s (default: settings, or 3s)"
    )
    apply.add_argument(
        "--retries", type=int, help="lock-timeout retries per statement (default: settings, or 5)"
    )
    apply.add_argument(
        "--rehearse", action="store_true", help="run the plan first on a scratch copy"
    )
    apply.add_argument(
        "--revision", type=int, metavar="N", help="apply the file recorded by history run N"
    )
    drift = command("drift", "compare the live database with the file")
    drift.add_argument("--format", choices=[*PLAN_FORMATS, "prometheus"], default=None)
    drift.add_argument(
        "--all", action="store_true", help="also report tables the file does not name"
    )
    apply.add_argument(
        "--format", choices=["text", "json", "prometheus"], default=None, help="prometheus: -i"
    )
    for many in (plan, apply, drift):
        add_inventory_arguments(many)
    history = command("history", "list earlier apply runs (mmschema.history)")
    history.add_argument("--show", type=int, metavar="N", help="print run N's statements and file")
    dump = command(
        "dump",
        "write a schema.yaml for tables of the live database",
        epilog="examples:\n  mmschema dump > schema.yaml             every table of every schema"
        "\n  mmschema dump --schema ledger           the tables of one schema"
        "\n  mmschema dump sessions ledger.entries   some tables",
    )
    dump.add_argument(
        "--schema",
        action="append",
        default=None,
        help="a schema to dump; repeat for more (default: every schema but the system ones)",
    )
    dump.add_argument("-o", "--output", help="write to this file instead of stdout")
    dump.add_argument(
        "--all-grants",
        action="store_true",
        help="write every object's grants, default ones too (grants: [] where only the owner "
        "has any): with --prune the file then revokes whatever else is granted",
    )
    dump.add_argument(
        "tables", nargs="*", metavar="NAME", help="tables (name or schema.name) or schemas to dump"
    )
    import_ = commands.add_parser(
        "import",
        help="run SQL files or migration folders on the scratch server; write their schema.yaml",
        description="Run SQL files or migration folders (every *.sql in name order) in a fresh "
        "temporary database on the scratch server, then write the schema.yaml of the tables "
        "and the views, functions, triggers ... they leave. An UPDATE of columns the scripts "
        "add becomes those columns' backfill "
        "(and backfill_where); any other statement the file cannot hold is listed with its "
        "file:line, and the import fails unless --ignore-data.",
        epilog="examples:\n  mmschema import schema.sql migrations/ -o schema.yaml"
        "   the base first, then the folder\n"
        "  mmschema import dump.sql --ignore-data > schema.yaml   leave its INSERTs out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    import_.add_argument("sources", nargs="+", metavar="SOURCE", help="SQL file or folder")
    import_.add_argument("-o", "--output", help="write to this file instead of stdout")
    import_.add_argument(
        "--schema", action="append", default=None, help="a schema to write; repeat for more"
    )
    import_.add_argument("--dev-database", help="scratch server DSN (default: embedded)")
    import_.add_argument(
        "--ignore-data",
        action="store_true",
        help="write the file even though statements it cannot hold (INSERT, DO, ...) "
        "are left out (they are listed either way)",
    )
    server = commands.add_parser(
        "server",
        help="the embedded PostgreSQL: status, stop",
        description="The embedded PostgreSQL that mmschema starts when no database is "
        "configured, and uses as its scratch server without --dev-database: one per user, "
        "in $MMSCHEMA_HOME (default ~/.cache/mmschema), stopped after $MMSCHEMA_SERVER_IDLE "
        "(default 5min; off: never) without use.",
    )
    server.add_argument(
        "action", choices=["status", "stop"], help="status: show it; stop: stop it now"
    )
    return parser


def main(argv: Sequence[str] | None = None, environment: Environment | None = None) -> int:
    environment = environment or Environment()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)  # --version, --help and usage errors: sys.stdout/err
    except SystemExit as exit_:
        return int(exit_.code or 0) and int(ExitStatus.ERROR)
    from mmschema.closedpipe import ReaderMayLeave
    from mmschema.connect import RedactingStream, remember, remember_environment

    remember_environment(environment)
    output = ReaderMayLeave(environment.stdout)
    environment = replace(
        environment,
        stdout=cast(TextIO, RedactingStream(cast(TextIO, output))),
        stderr=cast(TextIO, RedactingStream(cast(TextIO, ReaderMayLeave(environment.stderr)))),
    )
    remember(getattr(args, "database", None))
    remember(getattr(args, "dev_database", None))
    args.workdir = environment.cwd
    args.cache_dir = cache_dir(environment.cwd, environment.env)
    import psycopg
    from rich.console import Console

    from mmschema import commands
    from mmschema.connect import ConnectionFailed, primary_message, scrub
    from mmschema.desired.declared import InvalidFile
    from mmschema.localserver import LocalServerError
    from mmschema.readguard import ReadStopped
    from mmschema.scratch_chunks import LockTableTooSmall
    from mmschema.sources import SourceError
    from mmschema.visible import visible

    run_command = commands.handler(args.command)
    err = Console(file=environment.stderr, highlight=False, soft_wrap=True, emoji=False)
    dsn = getattr(args, "database", None) or ""
    command_may_be_interrupted()
    try:
        refuse_empty_values(args)
        inventory = getattr(args, "inventory", None)
        prometheus = getattr(args, "format", None) == "prometheus"
        if prometheus and args.command != "drift" and not inventory:
            raise UsageError(f"--format prometheus: {args.command} gives it with -i only")
        if inventory:
            from mmschema.inventory import run_inventory

            status = int(run_inventory(args, environment, run_command))
        else:
            status = int(run_command(args, environment))
        if output.failure is not None:  # the work is done; what it printed is lost
            reason = output.failure.strerror or str(output.failure)
            err.print(visible(f"mmschema: cannot write the output: {reason}"), markup=False)
            return int(ExitStatus.ERROR)
        return status
    except InvalidFile as invalid:
        for line in invalid.errors:
            err.print(visible(line), markup=False)
        return int(ExitStatus.ERROR)
    except (
        UsageError,
        ConnectionFailed,
        SourceError,
        LockTableTooSmall,
        LocalServerError,
        ReadStopped,
    ) as error:
        err.print(visible(f"mmschema: {scrub(str(error), dsn)}"), markup=False)
        return int(ExitStatus.ERROR)
    except psycopg.Error as error:
        message = primary_message(error)
        err.print(visible(f"mmschema: database error: {scrub(message, dsn)}"), markup=False)
        return int(ExitStatus.ERROR)
    except OSError as error:  # a file that cannot be written: a full disk, a read-only one
        where = f"{error.filename}: " if error.filename else ""
        err.print(visible(f"mmschema: {where}{error.strerror or error}"), markup=False)
        return int(ExitStatus.ERROR)
    except KeyboardInterrupt as interrupt:
        if isinstance(interrupt, Terminated):
            err.print("mmschema: terminated", markup=False)
            return TERMINATED
        err.print("mmschema: interrupted", markup=False)
        return INTERRUPTED


# Options whose empty value would silently mean their default (`-d "$UNSET"`: the embedded
# database), by their attribute and their name on the command line.
NOT_EMPTY = {
    "file": "-f",
    "database": "-d",
    "dev_database": "--dev-database",
    "out": "--out",
    "from_source": "--from",
    "inventory": "-i",
    "output": "-o",
    "planfile": "PLANFILE",
}


def refuse_empty_values(args: argparse.Namespace) -> None:
    for attribute, option in NOT_EMPTY.items():
        value = getattr(args, attribute, None)
        if value is not None and not value.strip():
            default = "the default" if attribute != "database" else "the environment's database"
            raise UsageError(
                f"{option} is empty (an unset variable?): give a value, or leave {option} out "
                f"for {default}"
            )


def run() -> None:
    from mmschema.collector import command_process

    command_process()
    status = main()
    quiet_until_command()
    from mmschema.closedpipe import flush_standard_streams

    if not flush_standard_streams() and status == 0:
        status = int(ExitStatus.ERROR)  # the output's last part was lost (said in one line)
    from mmschema.exiting import leave

    leave(status)


def add_inventory_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i", "--inventory", metavar="FILE", help="run on every target of this inventory file"
    )
    parser.add_argument(
        "--limit",
        action="append",
        default=None,
        metavar="NAME_OR_GROUP",
        help="only these targets or groups (repeatable, or a comma list)",
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="targets to run at once, each in its own process (default: %(default)s)",
    )
    parser.add_argument(
        "--target-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a target that takes longer and report it as failed (default: none)",
    )
