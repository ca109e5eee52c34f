"""Shared pieces of the benchmarks: a throwaway server, timing, the CLI in-process, tables."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pglast import split

from mmschema.cli import main
from mmschema.environment import Environment
from mmschema.localserver import LocalServer, bin_dir_for_major, reachable_by, service_user

ROOT = Path(__file__).resolve().parent.parent
DIR_PREFIX = "mmschema-bench-"


def scratch_base() -> Path:
    """/dev/shm if the PostgreSQL service user can reach it, else the temp dir, else /tmp."""
    user = service_user()
    for candidate in (Path("/dev/shm"), Path(tempfile.gettempdir()), Path("/tmp")):
        usable = candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
        if usable and reachable_by(candidate, user):
            return candidate
    raise SystemExit("no writable directory for a benchmark PostgreSQL cluster")


def make_dir(label: str) -> Path:
    """A new directory the PostgreSQL service user can pass through (and mmschema can use)."""
    path = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-{label}-", dir=scratch_base()))
    path.chmod(0o755)
    return path


@contextlib.contextmanager
def throwaway_server(
    major: int, settings: Mapping[str, str] | None = None
) -> Iterator[LocalServer]:
    """A fresh fast (fsync off) cluster, stopped and removed on the way out."""
    home = make_dir(f"pg{major}")
    server = LocalServer(
        bin_dir_for_major(major, ROOT), home / "data", fast=True, settings=dict(settings or {})
    )
    try:
        server.start()
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


def create_database(server: LocalServer, name: str, template: str | None = None) -> str:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"'.encode())
        extra = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{extra}'.encode())
    return server.dsn(name)


def run_script(dsn: str, text: str) -> None:
    """Run a SQL script statement by statement in autocommit (as psql -f would)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in split(text):
            conn.execute(statement.encode())


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], cwd: Path) -> CliResult:
    """The whole mmschema CLI in-process, as tests/clirunner.py runs it."""
    stdout, stderr = io.StringIO(), io.StringIO()
    environment = Environment(
        stdout=stdout,
        stderr=stderr,
        stdin=io.StringIO(""),
        env={},
        cwd=cwd,
        interactive=False,
    )
    code = main(list(args), environment)
    return CliResult(code, stdout.getvalue(), stderr.getvalue())


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(
    fn: Callable[[], object], runs: int, before: Callable[[], object] | None = None
) -> tuple[float, list[float]]:
    """Median wall time of `runs` calls of fn (before() runs untimed ahead of each)."""
    samples: list[float] = []
    for _ in range(runs):
        if before is not None:
            before()
        samples.append(timed(fn))
    return statistics.median(samples), samples


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
