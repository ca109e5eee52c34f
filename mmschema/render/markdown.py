"""The plan as Markdown for a pull-request comment: summary, a table of changes, the SQL."""

from __future__ import annotations

from mmschema.desired.declared import Settings
from mmschema.plan import Plan, PlannedChange
from mmschema.render.sql import render_sql
from mmschema.render.text import no_changes_line, summary_line


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def code(text: str) -> str:
    return f"`{cell(text)}`" if "`" not in text else cell(text)


def row(number: int, planned: PlannedChange) -> str:
    lock = planned.lock.sql_name + ("" if planned.transactional else " (outside a transaction)")
    hazards = "<br>".join(f"**{h.kind}**: {cell(h.detail)}" for h in planned.hazards) or "none"
    notes = [("in flight", planned.progress), ("method", planned.method)]
    about = "".join(f"<br>**{label}**: {cell(text)}" for label, text in notes if text)
    return (
        f"| {number} | {code(planned.kind)} | {code(planned.object)}{about} | {lock}"
        f" | {hazards} |"
    )


def render_markdown(plan: Plan, settings: Settings | None = None) -> str:
    lines = [f"### mmschema plan for {code(plan.target)}", "", f"**{summary_line(plan)}**", ""]
    if plan.empty:
        lines.append(no_changes_line(plan))
    else:
        lines += [
            "| # | Change | Object | Lock | Hazards |",
            "|---|--------|--------|------|---------|",
            *(row(i, c) for i, c in enumerate(plan.changes, 1)),
        ]
    if plan.unmanaged:
        lines += ["", "Unmanaged (kept; `--prune` drops them):", ""]
        lines += [f"- {code(name)}" for name in plan.unmanaged]
    if not plan.empty:
        fence = "````" if "```" in render_sql(plan, settings) else "```"
        lines += [
            "",
            "<details><summary>SQL</summary>",
            "",
            f"{fence}sql",
            render_sql(plan, settings).rstrip("\n"),
            fence,
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"
