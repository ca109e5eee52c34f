"""Partitions: attached to and detached from their parent."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import Statement, alter_table, qualified, statements
from mmschema.locks import Form


@statements.register
def _(change: ch.AttachPartition) -> list[Statement]:
    action = sql.SQL("ATTACH PARTITION {} {}").format(
        qualified(change.table), sql.SQL(change.bound)
    )
    return [alter_table(change.parent, Form.ATTACH_PARTITION, action)]


@statements.register
def _(change: ch.DetachPartition) -> list[Statement]:
    action = sql.SQL("DETACH PARTITION {}").format(qualified(change.table))
    return [alter_table(change.parent, Form.DETACH_PARTITION, action)]
