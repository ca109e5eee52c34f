"""Shared fixtures: a throwaway PostgreSQL server per selected major, a fresh database per test."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pglast import split
from psycopg import sql

from mmschema.embedded import ensure_database, stop_embedded
from mmschema.localserver import (
    LocalServer,
    bin_dir_for_major,
    reachable_by,
    read_pid_file,
    service_user,
)
from tests.outside import shell  # noqa: F401  (the fixture, for every test module)

ROOT = Path(__file__).resolve().parent.parent
ALL_MAJORS = (14, 15, 16, 17, 18)
DEFAULT_MAJORS = "17"
TEMPLATE_DB = "mmschema_template"
SCRATCH_DB = "mmschema_scratch"
DIR_PREFIX = "mmschema-test-"

# A suite started in the background by a script inherits SIGINT ignored, and so would every
# mmschema process it starts (an ignored signal stays ignored across exec): Ctrl-C tests
# would then see it ignored. A user's mmschema gets SIGINT with its default action.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def selected_majors(value: str | None) -> list[int]:
    """Majors named by MMSCHEMA_TEST_PG: one (default 17), a comma list, or `all`."""
    text = (value or DEFAULT_MAJORS).strip().lower()
    if text == "all":
        return list(ALL_MAJORS)
    majors: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if not part.isdigit() or int(part) not in ALL_MAJORS:
            raise pytest.UsageError(
                f"MMSCHEMA_TEST_PG={value!r}: use a major of {ALL_MAJORS}, a comma list, or all"
            )
        if int(part) not in majors:
            majors.append(int(part))
    return majors or [int(DEFAULT_MAJORS)]


SELECTED_MAJORS = selected_majors(os.environ.get("MMSCHEMA_TEST_PG"))


def run_sql(dsn: str, sql_text: str) -> None:
    """Run a script the way `psql -f` would: statement by statement, in autocommit.

    One statement at a time, so CREATE INDEX CONCURRENTLY and friends work; explicit
    BEGIN/COMMIT in the script still group statements. A script that does not parse is
    sent whole, so that the server reports the error.
    """
    try:
        statements: Sequence[str] = list(split(sql_text))
    except Exception:  # pglast.parser.ParseError: let the server say what is wrong
        statements = [sql_text]
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())


def query(dsn: str, sql_text: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one query and return all its rows (an empty list for a statement without rows)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(sql_text.encode() if params is None else sql_text, params)
        return cursor.fetchall() if cursor.description is not None else []


def scratch_base() -> Path:
    """Where test clusters live: /dev/shm if usable, else the temp dir, else /tmp."""
    user = service_user()
    for candidate in (Path("/dev/shm"), Path(tempfile.gettempdir()), Path("/tmp")):
        usable = candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
        if usable and reachable_by(candidate, user):
            return candidate
    raise pytest.UsageError("no writable directory for test PostgreSQL clusters")


def make_server_dir(label: str) -> Path:
    """A new directory that the PostgreSQL service user can pass through."""
    base = scratch_base()
    path = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-{label}-", dir=base))
    path.chmod(0o755)
    return path


def reap_stale_server_dirs() -> None:
    """Stop the servers and remove the dirs that killed test sessions left behind."""
    for path in scratch_base().glob(f"{DIR_PREFIX}*"):
        found = re.match(rf"{DIR_PREFIX}(\d+)-", path.name)
        if found is None or _alive(int(found.group(1))):
            continue
        for pid_file in path.rglob("postmaster.pid"):
            info = read_pid_file(pid_file.parent)
            if info is not None:
                with contextlib.suppress(OSError):
                    os.kill(info.pid, signal.SIGQUIT)
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prepare_template(server: LocalServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        name = sql.Identifier(TEMPLATE_DB)
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(name))
        conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(name))


@pytest.fixture(scope="session")
def pg_servers() -> Iterator[dict[int, LocalServer]]:
    """The clusters this session (or xdist worker) started, by major, stopped at its end.

    A cluster is started the first time a test needs its major and kept: a worker handed
    tests of several majors in turn never initializes one twice."""
    servers: dict[int, LocalServer] = {}
    reap_stale_server_dirs()
    try:
        yield servers
    finally:
        for server in servers.values():
            with contextlib.suppress(Exception):
                server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session", params=SELECTED_MAJORS, ids=lambda major: f"pg{major}")
def pg_server(request: pytest.FixtureRequest, pg_servers: dict[int, LocalServer]) -> LocalServer:
    """A PostgreSQL cluster of one selected major, with the template database."""
    major = int(request.param)
    if major not in pg_servers:
        pg_servers[major] = _start_server(major)
    return pg_servers[major]


def _start_server(major: int) -> LocalServer:
    home = make_server_dir(f"pg{major}")
    server = LocalServer(bin_dir_for_major(major, ROOT), home / "data", fast=True)
    try:
        server.start()
        _prepare_template(server)
    except BaseException:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)
        raise
    return server


@pytest.fixture(scope="session")
def scratch_dsn(pg_server: LocalServer) -> str:
    """DSN of `mmschema_scratch` on the test server: mmschema's --dev-database in tests."""
    return ensure_database(pg_server.dsn(), SCRATCH_DB)


@pytest.fixture
def db(pg_server: LocalServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """DSN of a new database copied from the template, dropped after the test."""
    name = _database_name(request.node.name)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(_create_database(name, pg_server.major))
    try:
        yield pg_server.dsn(name)
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            _drop_database(conn, name, pg_server.major)


def _database_name(test_name: str) -> str:
    """A unique, readable database name from the test's name (63 bytes at most)."""
    stem = re.sub(r"[^a-z0-9]+", "_", test_name.lower()).strip("_")
    stem = stem.removeprefix("test_")[:40]
    return f"t_{stem}_{secrets.token_hex(3)}"


def _create_database(name: str, major: int) -> sql.Composed:
    # FILE_COPY (PG 15+) copies the small template in ~6 ms; WAL_LOG takes ~30 ms.
    strategy = sql.SQL(" STRATEGY FILE_COPY" if major >= 15 else "")
    return sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
        sql.Identifier(name), sql.Identifier(TEMPLATE_DB), strategy
    )


def _drop_database(conn: psycopg.Connection[Any], name: str, major: int) -> None:
    if major >= 13:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        return
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
    )
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session", autouse=True)
def embedded_home() -> Iterator[Path]:
    """In-process commands keep the embedded server (and the cache key) in a throwaway
    mmschema home, not in the user's; its server is stopped at the end of the session."""
    path = make_server_dir("home")
    before = os.environ.get("MMSCHEMA_HOME")
    os.environ["MMSCHEMA_HOME"] = str(path)
    try:
        yield path
    finally:
        with contextlib.suppress(Exception):
            stop_embedded()
        if before is None:
            del os.environ["MMSCHEMA_HOME"]
        else:
            os.environ["MMSCHEMA_HOME"] = before
        remove_tree(path)


@pytest.fixture
def pg_tmp_dir() -> Iterator[Path]:
    """A temporary directory that the PostgreSQL service user can reach (unlike tmp_path)."""
    path = make_server_dir("tmp")
    try:
        yield path
    finally:
        remove_tree(path)


def remove_tree(path: Path) -> None:
    """Remove `path`; once more after a moment when a process that was stopping (a server,
    the embedded server's idle watcher) wrote into it while it was being removed."""
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        time.sleep(0.5)
        shutil.rmtree(path, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "one_major: the test does not depend on the server's major; it runs on one of the "
        "selected majors (the newest), not on each",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked one_major keep only their newest selected major's parametrization."""
    newest = max(SELECTED_MAJORS)
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        major = callspec.params.get("pg_server") if callspec is not None else None
        if item.get_closest_marker("one_major") and major is not None and major != newest:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
