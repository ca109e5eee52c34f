"""After the changes: ANALYZE what was touched, and the file's assertions."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from mmschema.connect import primary_message
from mmschema.kinds.tables import changes as tc
from mmschema.model import QualifiedName
from mmschema.plan import Plan


def touched_tables(plan: Plan) -> list[QualifiedName]:
    tables = [tc.table_after(planned.change) for planned in plan.changes]
    return list(dict.fromkeys(t for t in tables if t is not None))


def analyze(conn: psycopg.Connection[Any], tables: list[QualifiedName]) -> None:
    """ANALYZE the tables the plan touched (those that still exist)."""
    for table in tables:
        name = sql.Identifier(table.schema, table.name).as_string(conn)
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        if exists and exists[0]:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table.schema, table.name)))


def failing_assertions(conn: psycopg.Connection[Any], assertions: dict[str, str]) -> list[str]:
    """Names of the file's assertions whose query returns rows, with the row count.

    They run in a READ ONLY transaction that is rolled back: a function an assertion calls
    cannot write anything either (lo_create, nextval, set_config stay undone or refused).
    """
    failures: list[str] = []
    if not assertions:
        return failures
    with conn.transaction() as transaction:
        conn.execute("SET TRANSACTION READ ONLY")
        for name, query in assertions.items():
            try:
                with conn.transaction():
                    rows = conn.execute(query.encode()).fetchall()
            except psycopg.Error as error:
                failures.append(f"{name} (cannot run: {primary_message(error)})")
                continue
            if rows:
                failures.append(f"{name} ({len(rows)} rows)")
        raise psycopg.Rollback(transaction)
    return failures
