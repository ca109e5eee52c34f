"""Human-readable plans and apply lines, with rich (plain when not on a terminal)."""

from __future__ import annotations

import textwrap

from rich.console import Console
from rich.markup import escape

from mmschema.apply import ApplyReport, ChangeOutcome
from mmschema.kinds.tables import changes as tc
from mmschema.plan import Plan, PlannedChange
from mmschema.words import count

HAZARD_STYLE = {
    "destructive": "bold red",
    "may_fail": "bold red",
    "rewrite": "yellow",
    "blocking": "yellow",
    "long_running": "yellow",
}
STATUS_STYLE = {"ok": "green", "changed": "yellow", "failed": "bold red", "skipped": "cyan"}


def group_of(planned: PlannedChange) -> str:
    """The table a change belongs to, for grouping; database-wide changes group apart."""
    table = tc.table_after(planned.change)
    return str(table) if table is not None else "(database)"


def render_plan(plan: Plan, console: Console) -> None:
    """The changes in the order apply runs them, numbered so (as in markdown and JSON);
    a table's name heads each run of its changes."""
    console.print(f"Plan for {escape(plan.target)}", style="bold", highlight=False)
    if plan.empty:
        console.print(no_changes_line(plan), highlight=False)
    table = None
    for step, planned in enumerate(plan.changes, start=1):
        if group_of(planned) != table:
            table = group_of(planned)
            console.print(f"\n[bold]{escape(table)}[/bold]", highlight=False)
        render_change(step, planned, console)
    kept = "kept, even with --prune" if plan.pruned else "kept; --prune drops it"
    for name in plan.unmanaged:
        console.print(
            f"  [magenta]unmanaged[/magenta] {escape(name)} ({kept})", highlight=False
        )
    console.print(f"\n{summary_line(plan)}", highlight=False)


def render_change(step: int, planned: PlannedChange, console: Console) -> None:
    console.print(
        f"  {step:>2}. [cyan]{planned.kind}[/cyan] {escape(planned.object)}"
        f"  [dim]lock: {planned.lock.sql_name}"
        f"{'' if planned.transactional else ', outside a transaction'}[/dim]",
        highlight=False,
    )
    if planned.progress:
        console.print(f"      [cyan]in flight[/cyan]: {escape(planned.progress)}", highlight=False)
    if planned.method:
        console.print(f"      [cyan]method[/cyan]: {escape(planned.method)}", highlight=False)
    for hazard in planned.hazards:
        style = HAZARD_STYLE.get(hazard.kind, "yellow")
        console.print(
            f"      [{style}]hazard {hazard.kind}[/{style}]: {escape(hazard.detail)}",
            highlight=False,
        )
    for statement in planned.statements:
        # Continuation lines (function bodies, view queries) stay under their step.
        text = textwrap.indent(f"{statement.sql};", "      ")
        console.print(escape(text), style="dim", highlight=False)


def no_changes_line(plan: Plan) -> str:
    """What an empty plan means: the database matches, or holds more than the file says."""
    if plan.unmanaged:
        return "No changes to make; the database also holds what the file does not declare:"
    return "No changes: the database matches the file."


def summary_line(plan: Plan) -> str:
    kinds = sorted(plan.hazard_kinds())
    hazards = f", hazards: {', '.join(kinds)}" if kinds else ""
    return f"Plan: {count(len(plan.changes), 'change')}{hazards}, {len(plan.unmanaged)} unmanaged."


def render_outcome(outcome: ChangeOutcome, console: Console) -> None:
    style = STATUS_STYLE.get(outcome.status, "")
    line = (
        f"[{style}]{outcome.status}[/{style}]: {escape(f'[{outcome.change.kind}]')} "
        f"{escape(outcome.change.object)} ({outcome.seconds:.2f}s)"
    )
    console.print(line, highlight=False)
    if outcome.error:
        console.print(f"  {escape(outcome.error)}", style="red", highlight=False)


def render_recap(report: ApplyReport, console: Console) -> None:
    """Counts as in an Ansible recap: ok is every change that ended well, changed included."""
    changed = report.count("changed")
    console.print(
        f"\nRECAP ok={changed} changed={changed} failed={report.count('failed')} "
        f"skipped={report.count('skipped')}",
        highlight=False,
    )
