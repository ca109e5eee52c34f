"""A second connection in the same snapshot, so that two catalog statements run at once.

A big read's statements are each bound by the server's CPU, one core per backend; on a
server with a core to spare, the indexes statement runs beside the columns statement. The
second connection imports the first one's exported snapshot (REPEATABLE READ), so both
read the same catalog state. Anything that keeps it from working (no connection slot, a
server that cannot export snapshots) only costs the time: the caller runs the statement
on its own connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

Statement = Callable[[psycopg.Connection[Any]], list[Any]]


def same_connection(conn: psycopg.Connection[Any]) -> str:
    """A conninfo string with the parameters `conn` was made with (the password too: libpq
    keeps it), to open another connection like it."""
    params = {
        option.keyword.decode(): option.val.decode()
        for option in conn.pgconn.info
        if option.val is not None and option.val != b""
    }
    return make_conninfo("", **params)


class SnapshotHelper:
    """Runs one statement on a second connection in `conn`'s snapshot, in a thread.

    start() must be called inside `conn`'s REPEATABLE READ transaction before its first
    statement of the read; the transaction must stay open until result() returns.
    """

    def __init__(self, conn: psycopg.Connection[Any], settle: Callable[[Any], None]) -> None:
        self.conn = conn
        self.settle = settle
        self.helper: psycopg.Connection[Any] | None = None
        self.ready = threading.Event()
        self.statement: Statement | None = None
        self.rows: list[Any] | None = None
        self.thread: threading.Thread | None = None
        self.waits: tuple[str, str] = ("0", "0")

    def start(self, snapshot: str) -> None:
        """Connect and import `snapshot` in the background."""
        conninfo = same_connection(self.conn)
        waits = self.conn.execute(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        ).fetchone()
        self.waits = tuple(waits) if waits else ("0", "0")  # the reader's limits, for the helper
        self.thread = threading.Thread(target=self._run, args=(conninfo, snapshot), daemon=True)
        self.thread.start()

    def _run(self, conninfo: str, snapshot: str) -> None:
        try:
            helper = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error:
            self.ready.set()
            return
        try:
            helper.execute(
                "SELECT set_config('lock_timeout', %s, false),"
                " set_config('statement_timeout', %s, false)",
                self.waits,
            )
            helper.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            helper.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            self.settle(helper)
        except psycopg.Error:
            helper.close()
            self.ready.set()
            return
        self.helper = helper
        self.ready.wait()  # until run() hands over the statement (or result() gives up)
        try:
            if self.statement is not None:
                self.rows = self.statement(helper)
        except psycopg.Error:
            self.rows = None
        finally:
            helper.close()

    def run(self, statement: Statement) -> None:
        """Hand the statement over (it runs now, beside the caller's next ones)."""
        self.statement = statement
        self.ready.set()

    def result(self, statement: Statement) -> list[Any]:
        """The statement's rows: the second connection's, or read now on `conn` when that
        connection could not run it."""
        self.ready.set()
        if self.thread is not None:
            self.thread.join()
        if self.rows is not None:
            return self.rows
        return statement(self.conn)


class SnapshotRefused(Exception):
    """The server would not export the transaction's snapshot (the transaction is aborted)."""


def export_snapshot(conn: psycopg.Connection[Any]) -> str:
    """The snapshot of conn's transaction, for another connection (SnapshotRefused if not:
    a subtransaction cannot export one, so the caller's transaction is lost then)."""
    try:
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
    except psycopg.Error as error:
        raise SnapshotRefused(str(error)) from error
    if row is None:
        raise SnapshotRefused("no snapshot")
    return str(row[0])
