"""The apply command: gates, confirmation, the recorded run, and the final re-plan."""

from __future__ import annotations

import argparse
from typing import Any

import psycopg
from rich.console import Console

from mmschema import aftercare, waiting
from mmschema import apply as applying
from mmschema import history as runlog
from mmschema.backfill import BackfillJob, TerminalProgress
from mmschema.collector import long_running
from mmschema.command_base import ExitStatus, UsageError, load_file, parse_kinds, target_for
from mmschema.commands.common import (
    cache_for,
    consoles,
    effective_settings,
    make_plan,
    scratch_for,
)
from mmschema.connect import Target, connect
from mmschema.desired.declared import DesiredState, Settings
from mmschema.environment import Environment
from mmschema.plan import Plan, stale_reason
from mmschema.privileges import missing_privileges
from mmschema.readguard import lock_waits_named
from mmschema.render import apply_json
from mmschema.render.text import render_outcome, render_plan, render_recap
from mmschema.saved_plan import NotASavedPlan, other_target, read_saved_plan, saved_file

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
    return environment.stdin.readline().strip().lower() == "yes"


def apply(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    if getattr(args, "format", None) == "json":
        from mmschema.render.apply_json import apply_as_json

        return ExitStatus(apply_as_json(args, environment, _apply))
    return _apply(args, environment)


def _apply(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    saved = saved_plan_of(args, environment)
    if getattr(args, "revision", None) is not None:
        desired = revision_file(args, environment)
    elif saved is not None and args.file is None and (carried := saved_file(*saved)):
        desired = carried  # the plan carries its file; an explicit -f is compared instead
    else:
        desired = load_file(args)
    allowed = parse_kinds(args.allow) | (set(desired.settings.allow) - {"destructive"})
    settings = effective_settings(args, desired)
    _, err = consoles(environment)
    target = target_for(args, environment, err)
    if saved is not None and (elsewhere := other_target(saved[0], target.label)):
        err.print(f"mmschema: refused: {elsewhere}; pass -d for that database", markup=False)
        return ExitStatus.REFUSED
    if (raised := waiting.timeouts_notice(settings)) is not None:
        err.print(f"mmschema: {raised}", markup=False)
    with applying.sigterm_as_interrupt(), connect(target.dsn, "mmschema-apply") as conn:
        waiting.set_timeouts(conn, settings)  # for every statement of the run, until reset
        try:
            waiting.acquire_apply_lock(conn, args.lock_wait, lambda m: err.print(m, markup=False))
        except waiting.ApplyFailed as busy:
            raise UsageError(str(busy)) from None
        _mark_dead_runs(conn, err)
        try:
            return _apply_locked(args, environment, desired, conn, target, allowed, settings, saved)
        finally:
            if not conn.closed and not conn.broken:
                waiting.release_apply_lock(conn)


def _mark_dead_runs(conn: psycopg.Connection[Any], err: Console) -> None:
    """Runs left `running` by a killed mmschema or a restarted server become `abandoned`."""
    try:
        dead = runlog.mark_abandoned(conn)
    except psycopg.errors.InsufficientPrivilege:
        return  # the history is not this role's to write; the plan check says so if needed
    for run_id in dead:
        err.print(f"mmschema: run {run_id} died without an end; marked abandoned", markup=False)


def _apply_locked(
    args: argparse.Namespace,
    environment: Environment,
    desired: DesiredState,
    conn: psycopg.Connection[Any],
    target: Target,
    allowed: set[str],
    settings: Settings,
    saved: tuple[dict[str, Any], str] | None,
) -> ExitStatus:
    out, err = consoles(environment)
    lock_ms, longer = settings.lock_timeout_ms, "raise it (settings.lock_timeout)"
    with lock_waits_named(conn, "apply", target.label, lock_ms, "--lock-timeout", longer):
        planned = make_plan(args, environment, desired, conn, target, err)
    long_running()  # the steps may take hours: the collector runs again
    plan = planned.plan
    apply_json.note_plan(plan)
    if saved is not None:
        stale = stale_reason(saved[0], plan)
        if stale:
            err.print(f"mmschema: refused: {stale}; make a new plan", markup=False)
            return ExitStatus.REFUSED
    if plan.empty:
        out.print(f"ok: {target.label} already matches the file", highlight=False)
        return _finish(conn, desired, plan, out, err, args, environment, target)
    render_plan(plan, out)
    unable = missing_privileges(conn, plan)
    if (history_problem := runlog.usability_problem(conn)) is not None:
        unable.append(history_problem)
    if unable:
        for line in unable:
            err.print(f"mmschema: {line}", markup=False)
        err.print("mmschema: nothing was changed", markup=False)
        return ExitStatus.ERROR
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
        tables = [t.name for t in desired.tables]
        recorder = runlog.Recorder(history_conn, desired.text, tables)
        try:
            status = _run_recorded(
                args, environment, desired, conn, target, settings, plan, recorder
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
    recorder: runlog.Recorder,
) -> ExitStatus:
    """Run the plan (unfinished backfills first), ANALYZE, then plan again (all recorded)."""
    out, err = consoles(environment)

    def notice(message: str) -> None:
        err.print(message, markup=False)

    def progress(job: BackfillJob) -> TerminalProgress | None:
        return TerminalProgress(err, job.label) if environment.is_terminal else None

    report = applying.apply_plan(
        conn,
        plan,
        settings,
        apply_json.recording(lambda outcome: render_outcome(outcome, out)),
        notice,
        recorder,
        progress,
        lambda: connect(target.dsn, "mmschema-backfill"),
    )
    render_recap(report, out)
    if report.count("failed"):
        return ExitStatus.ERROR
    aftercare.analyze(conn, aftercare.touched_tables(plan))
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
    failures = aftercare.failing_assertions(conn, desired.assertions)
    if failures:
        for failure in failures:
            err.print(f"assertion failed: {failure}", markup=False)
        return ExitStatus.ERROR
    return ExitStatus.OK


def saved_plan_of(
    args: argparse.Namespace, environment: Environment
) -> tuple[dict[str, Any], str] | None:
    """The saved plan PLANFILE names and that name, read before any database is touched."""
    name = getattr(args, "planfile", None)
    if not name:
        return None
    try:
        return read_saved_plan(environment.cwd / name, name), name
    except NotASavedPlan as error:
        raise UsageError(str(error)) from None


def revision_file(args: argparse.Namespace, environment: Environment) -> DesiredState:
    """Run N's file as the desired state, with what later runs added to roll back."""
    from mmschema.desired.load import load_text
    from mmschema.rollback import load_later, rollback_of

    _, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn) as conn:
        file_text = runlog.run_file(conn, args.revision) if runlog.exists(conn) else None
        later = runlog.later_run_files(conn, args.revision) if file_text is not None else []
    if file_text is None:
        raise UsageError(f"no run {args.revision} in the history of {target.label}")
    skipped: list[str] = []
    rollback = rollback_of(
        args.revision,
        load_text(file_text, f"run-{args.revision}.yaml"),
        load_later(later, skipped),
    )
    args.rollback = rollback
    runs = rollback.later_runs
    since = f"runs {runs[0]}-{runs[-1]}" if len(runs) > 1 else f"run {runs[0]}" if runs else ""
    say = f"rollback: applying the file recorded by run {args.revision}"
    if args.prune:
        say += "; with --prune, whatever that file does not name is dropped"
    elif since:
        say += (
            f", undoing what {since} declared beyond it; anything else the file does not "
            "name is left alone (add --prune to drop it)"
        )
    else:
        say += "; no run came after it; add --prune to drop what the file does not name"
    err.print(say, markup=False)
    if skipped:
        err.print(
            f"rollback: the files of {', '.join(skipped)} no longer load; what they declared "
            "is not rolled back",
            markup=False,
        )
    return rollback.desired


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
