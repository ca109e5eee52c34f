"""Progress of a long CREATE INDEX CONCURRENTLY, read from pg_stat_progress_create_index.

A small thread polls the view from a second connection (the building one is busy) and
shows the phase and the blocks or tuples done on a rich console (terminals only).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

POLL_SQL = """SELECT phase, blocks_total, blocks_done, tuples_total, tuples_done
              FROM pg_stat_progress_create_index WHERE pid = %s"""


def conninfo_of(conn: psycopg.Connection[Any]) -> str:
    """A DSN for a second session like conn's (conn.info.dsn leaves the password out)."""
    password = conn.info.password
    return make_conninfo(conn.info.dsn, **({"password": password} if password else {}))


class IndexBuildWatcher:
    """Polls the build of backend `pid` every `interval` seconds until stopped."""

    def __init__(
        self, dsn: str, pid: int, console: Console, label: str, interval: float = 0.5
    ) -> None:
        self.dsn = dsn
        self.pid = pid
        self.label = label
        self.interval = interval
        self.stopping = threading.Event()
        self.bar = Progress(
            TextColumn("index {task.description}: {task.fields[phase]}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task: TaskID | None = None
        self.thread = threading.Thread(target=self._run, name="mmschema-index-progress")
        self.thread.daemon = True

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        if self.task is not None:
            self.bar.stop()

    def _run(self) -> None:
        try:
            with psycopg.connect(
                self.dsn, autocommit=True, application_name="mmschema-progress", connect_timeout=5
            ) as conn:
                while not self.stopping.wait(self.interval):
                    row = conn.execute(POLL_SQL, (self.pid,)).fetchone()
                    if row is not None:
                        self.show(str(row[0]), *(int(v or 0) for v in row[1:]))
        except psycopg.Error:
            return  # progress is a nicety: never fail the apply over it

    def show(
        self, phase: str, blocks_total: int, blocks_done: int, tuples_total: int, tuples_done: int
    ) -> None:
        if blocks_total:
            total, done, counts = blocks_total, blocks_done, f"{blocks_done}/{blocks_total} blocks"
        elif tuples_total:
            total, done, counts = tuples_total, tuples_done, f"{tuples_done}/{tuples_total} tuples"
        else:
            total, done, counts = 0, 0, ""
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None, phase=phase, counts=counts)
        self.bar.update(self.task, total=total or None, completed=done, phase=phase, counts=counts)


@contextlib.contextmanager
def index_build_progress(
    conn: psycopg.Connection[Any], console: Console | None, label: str, interval: float = 0.5
) -> Iterator[None]:
    """Show the progress of the index build conn runs inside the block (no console: nothing)."""
    if console is None:
        yield
        return
    watcher = IndexBuildWatcher(conninfo_of(conn), conn.info.backend_pid, console, label, interval)
    watcher.start()
    try:
        yield
    finally:
        watcher.stop()
