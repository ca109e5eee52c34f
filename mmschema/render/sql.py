"""The plan as a psql script: `psql -v ON_ERROR_STOP=1 -f plan.sql` runs it to the same end."""

from __future__ import annotations

from mmschema.apply import DeferredBackfills, backfill_job
from mmschema.backfill import BackfillJob
from mmschema.ddl import transaction_groups
from mmschema.desired.declared import Settings
from mmschema.locks import Form
from mmschema.plan import Plan, PlannedChange
from mmschema.render.batched import batched_backfill
from mmschema.words import count

UNLIMITED_FORMS = (Form.BACKFILL,)


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


def statement_timeout(settings: Settings, form: Form) -> str:
    """As apply sets it: every statement above lock_timeout (or 0 when declared so), but the
    backfill's DO block, one statement that runs and commits all batches, has no limit."""
    if form in UNLIMITED_FORMS:
        return "0"
    return f"{settings.applied_statement_timeout_ms}ms"


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
    lines += [
        "-- each step commits on its own, as apply runs it: a lock timeout or an error stops",
        "-- the script where it is; plan again for what is left",
        "",
        f"SET lock_timeout = '{settings.lock_timeout_ms}ms';",
    ]
    timeouts = Timeouts(settings)
    backfills = DeferredBackfills(plan.changes)
    for planned in plan.changes:
        lines += ["", *change_header(planned)]
        statements = planned.statements
        job = backfill_job(planned)
        if job is not None and statements and statements[-1].form == Form.BACKFILL:
            statements = statements[:-1]  # batched after the column's transaction commits
        for group in transaction_groups(statements):
            in_transaction = group[0].transactional
            if in_transaction:
                lines.append("BEGIN;")
            for statement in group:
                lines += timeouts.before(statement.form)
                lines.append(f"{statement.sql};")
            if in_transaction:
                lines.append("COMMIT;")
        whole = backfills.added(planned, job) if job is not None else None
        if whole is not None:
            lines += timeouts.before(Form.BACKFILL)
            lines.append(f"-- backfill {one_line(whole.label)} in batches, each committed")
            lines.append(batched_backfill(whole, key_of(plan, whole), settings.retries) + ";")
    return "\n".join(lines) + "\n"


class Timeouts:
    """The SET statement_timeout lines a statement needs (only when the value changes)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current = ""

    def before(self, form: Form) -> list[str]:
        wanted = statement_timeout(self.settings, form)
        if wanted == self.current:
            return []
        self.current = wanted
        return [f"SET statement_timeout = '{wanted}';"]


def key_of(plan: Plan, job: BackfillJob) -> list[str]:
    """The primary key the backfill walks (as read when planning), or [] to walk by ctid."""
    table = plan.live.tables.get(job.table)
    key = table.primary_key if table is not None else None
    return list(key.columns) if key is not None else []
