"""DDL of online work: a backfill job as one recorded UPDATE, resumed backfills."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.backfill import BackfillJob, assignments, differs
from mmschema.ddl.base import Statement, make_statement, statements
from mmschema.ddl.tables import backfill
from mmschema.locks import Form


def job_statement(job: BackfillJob) -> Statement:
    """The whole job as one UPDATE, for the plan and the record (it runs in batches)."""
    if len(job.parts) == 1:
        part = job.parts[0]
        return backfill(job.table, part.column, part.value, part.where)
    return make_statement(
        Form.BACKFILL,
        sql.SQL("UPDATE {} SET {} WHERE {}").format(
            sql.Identifier(job.table.schema, job.table.name), assignments(job), differs(job)
        ),
    )


@statements.register
def _(change: ch.ResumeBackfill) -> list[Statement]:
    return [job_statement(change.job)]
