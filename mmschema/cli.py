"""The command line: parses arguments, calls the library, renders, returns an exit status."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from enum import IntEnum
from pathlib import Path
from typing import Any, TextIO, cast

import psycopg
from rich.console import Console

from mmschema import __version__
from mmschema.connect import (
    ConnectionFailed,
    RedactingStream,
    Target,
    primary_message,
    remember,
    remember_environment,
    resolve_target,
    scrub,
)
from mmschema.desired.declared import DesiredState, InvalidFile
from mmschema.environment import Environment
from mmschema.hazards import HAZARD_KINDS
from mmschema.scratch_chunks import LockTableTooSmall
from mmschema.sources import SourceError


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2  # plan --detailed-exitcode with changes; drift found
    REFUSED = 3  # hazard not allowed / --fail-on hit / stale plan / declined


PLAN_FORMATS = ["text", "json", "sql", "markdown"]


class UsageError(Exception):
    """Bad command-line input: one line, exit 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmschema", description="Keep PostgreSQL schemas in a declared state."
    )
    parser.add_argument("--version", action="version", version=f"mmschema {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, database: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "-f", "--file", default=None, help="schema file or directory (default: schema.yaml)"
        )
        if database:
            sub.add_argument("-d", "--database", help="target DSN (default: env, then embedded)")
            sub.add_argument("--dev-database", help="scratch server DSN used to normalize")
        return sub

    command("validate", "check the file; touches no database", database=False)
    commands.add_parser("schema", help="print the file format's JSON Schema")
    plan = command("plan", "print the changes and their DDL; changes nothing")
    plan.add_argument("--format", choices=PLAN_FORMATS, default=None)
    plan.add_argument("--out", help="also save the plan as JSON here, for apply PLANFILE")
    plan.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when changes pend")
    plan.add_argument("--fail-on", default="", help="hazard kinds that make plan exit 3")
    plan.add_argument("--prune", action="store_true", help="drop unmanaged objects")
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
    apply = command("apply", "run the plan")
    apply.add_argument(
        "planfile", nargs="?", help="a plan saved by plan --out: run exactly its statements"
    )
    apply.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    apply.add_argument("--allow", default="", help="hazard kinds to allow, comma-separated")
    apply.add_argument("--prune", action="store_true", help="drop unmanaged objects")
    apply.add_argument(
        "--lock-wait", type=float, default=60.0, help="seconds to wait for another apply"
    )
    apply.add_argument("--lock-timeout", help="per-statement lock_timeout, e.g. 3s")
    apply.add_argument("--retries", type=int, help="lock-timeout retries per statement")
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
    apply.add_argument("--format", choices=["text", "json"], default=None)
    from mmschema.inventory import add_inventory_arguments

    for many in (plan, apply, drift):
        add_inventory_arguments(many)
    history = command("history", "list earlier apply runs (mmschema.history)")
    history.add_argument("--show", type=int, metavar="N", help="print run N's statements and file")
    dump = command("dump", "write a schema.yaml for tables of the live database")
    dump.add_argument("--schema", action="append", default=None, help="schemas to dump")
    dump.add_argument("-o", "--output", help="write to this file instead of stdout")
    dump.add_argument("tables", nargs="*", help="tables to dump (default: all)")
    import_ = commands.add_parser(
        "import",
        help="run SQL files or migration folders on the scratch server; write their schema.yaml",
        description="Run SQL files or migration folders (every *.sql in name order) in a fresh "
        "temporary database on the scratch server, then write the schema.yaml of the tables "
        "they leave.",
    )
    import_.add_argument("sources", nargs="+", metavar="SOURCE", help="SQL file or folder")
    import_.add_argument("-o", "--output", help="write to this file instead of stdout")
    import_.add_argument("--schema", action="append", default=None, help="schemas to write")
    import_.add_argument("--dev-database", help="scratch server DSN (default: embedded)")
    return parser


def parse_kinds(text: str) -> set[str]:
    kinds = {k.strip() for k in text.split(",") if k.strip()}
    unknown = kinds - set(HAZARD_KINDS)
    if unknown:
        raise UsageError(
            f"unknown hazard kind {', '.join(sorted(unknown))} "
            f"(expected: {', '.join(HAZARD_KINDS)})"
        )
    return kinds


def main(argv: Sequence[str] | None = None, environment: Environment | None = None) -> int:
    environment = environment or Environment()
    remember_environment(environment)
    environment = replace(
        environment,
        stdout=cast(TextIO, RedactingStream(environment.stdout)),
        stderr=cast(TextIO, RedactingStream(environment.stderr)),
    )
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) and int(ExitStatus.ERROR)
    remember(getattr(args, "database", None))
    remember(getattr(args, "dev_database", None))
    args.workdir = environment.cwd
    args.cache_dir = environment.cwd / ".mmschema" / "cache"
    from mmschema import commands

    handlers: dict[str, Callable[[argparse.Namespace, Environment], ExitStatus]] = {
        "validate": commands.validate,
        "schema": commands.schema,
        "plan": commands.plan,
        "apply": commands.apply,
        "drift": commands.drift,
        "dump": commands.dump,
        "history": commands.history,
        "import": commands.import_schema,
    }
    err = Console(file=environment.stderr, highlight=False, soft_wrap=True)
    dsn = getattr(args, "database", None) or ""
    try:
        if getattr(args, "inventory", None):
            from mmschema.inventory import run_inventory

            return int(run_inventory(args, environment, handlers[args.command]))
        return int(handlers[args.command](args, environment))
    except InvalidFile as invalid:
        for line in invalid.errors:
            err.print(line, markup=False)
        return int(ExitStatus.ERROR)
    except (UsageError, ConnectionFailed, SourceError, LockTableTooSmall) as error:
        err.print(f"mmschema: {scrub(str(error), dsn)}", markup=False)
        return int(ExitStatus.ERROR)
    except psycopg.Error as error:
        message = primary_message(error)
        err.print(f"mmschema: database error: {scrub(message, dsn)}", markup=False)
        return int(ExitStatus.ERROR)
    except KeyboardInterrupt as interrupt:
        from mmschema.apply import Terminated

        if isinstance(interrupt, Terminated):
            err.print("mmschema: terminated", markup=False)
            return 143
        err.print("mmschema: interrupted", markup=False)
        return 130


def run() -> None:
    sys.exit(main())


def print_json(data: Any, environment: Environment) -> None:
    environment.stdout.write(json.dumps(data, indent=2) + "\n")


def file_name(args: argparse.Namespace) -> str:
    """The schema file -f names, else schema.yaml."""
    return str(getattr(args, "file", None) or "schema.yaml")


def load_file(args: argparse.Namespace) -> DesiredState:
    from mmschema.desired.load import load_desired

    name = file_name(args)
    path = Path(name)
    workdir = getattr(args, "workdir", None)
    if not path.is_absolute() and workdir is not None and workdir.resolve() != Path.cwd().resolve():
        path = workdir / path  # relative to the Environment's directory (tests inject one)
    if not path.exists():
        raise UsageError(f"{name}: no such file or directory")
    cache = getattr(args, "cache_dir", None)
    return load_desired(path, cache / "files" if cache else None)


def target_for(args: argparse.Namespace, environment: Environment, err: Console) -> Target:
    from mmschema.embedded import embedded_dsn

    return resolve_target(
        args.database,
        environment,
        lambda: embedded_dsn(environment.cwd, lambda line: err.print(line, markup=False)),
    )
