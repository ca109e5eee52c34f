"""The plan as a psql script: `psql -v ON_ERROR_STOP=1 -f plan.sql` runs it to the same end."""

from __future__ import annotations

from mmschema.ddl import Statement, transaction_groups
from mmschema.desired.declared import Settings
from mmschema.locks import Form
from mmschema.plan import Plan, PlannedChange
from mmschema.words import count

UNLIMITED_FORMS = (Form.CREATE_INDEX_CONCURRENTLY, Form.BACKFILL)


def one_line(text: str) -> str:
    return " ".join(text.split())


def change_header(planned: PlannedChange) -> list[str]:
    kinds = sorted({h.kind for h in planned.hazards})
    tag = f" [{', '.join(kinds)}]" if kinds else ""
    lines = [f"-- {planned.kind} {planned.object}{tag}"]
    lines += [f"--   {h.kind}: {one_line(h.detail)}" for h in planned.hazards]
    lines.append(
        f"--   lock: {planned.lock.sql_name}"
        + ("" if planned.transactional else ", outside a transaction")
    )
    return lines


def statement_timeout(settings: Settings, statement: Statement) -> str:
    """As apply sets it: no limit for concurrent builds and backfills, else above lock_timeout."""
    if statement.form in UNLIMITED_FORMS:
        return "0"
    return f"{max(settings.statement_timeout_ms, settings.lock_timeout_ms + 1000)}ms"


def render_sql(plan: Plan, settings: Settings | None = None) -> str:
    settings = settings or Settings()
    lines = [
        f"-- mmschema plan for {one_line(plan.target)}; fingerprint {plan.fingerprint}",
        "-- run with: psql -v ON_ERROR_STOP=1 -f <this file>",
        f"-- {count(len(plan.changes), 'change')}",
    ]
    lines += [f"-- unmanaged (kept): {one_line(name)}" for name in plan.unmanaged]
    if plan.empty:
        lines.append("-- no changes: the database matches the file")
        return "\n".join(lines) + "\n"
    lines += ["", f"SET lock_timeout = '{settings.lock_timeout_ms}ms';"]
    current = ""
    for planned in plan.changes:
        lines += ["", *change_header(planned)]
        for group in transaction_groups(planned.statements):
            in_transaction = group[0].transactional
            if in_transaction:
                lines.append("BEGIN;")
            for statement in group:
                wanted = statement_timeout(settings, statement)
                if wanted != current:
                    lines.append(f"SET statement_timeout = '{wanted}';")
                    current = wanted
                lines.append(f"{statement.sql};")
            if in_transaction:
                lines.append("COMMIT;")
    return "\n".join(lines) + "\n"
