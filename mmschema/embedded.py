"""The embedded PostgreSQL: one server per user and major in the user's mmschema home,
started on demand and stopped by a detached watcher once idle."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from mmschema.localserver import (
    EMBEDDED_MAJOR,
    LocalServer,
    LocalServerError,
    ServiceUser,
    embedded_bin_dir,
    process_is_postgres,
    reachable_by,
    read_pid_file,
    service_user,
)
from mmschema.userdirs import PROJECT_DIR, mmschema_home

SCRATCH_DATABASE = "mmschema_scratch"
SERVER_DATABASE = "postgres"  # where the server's own connections go (to create the others)
PROJECT_PREFIX = "mmschema_"
PROJECT_STEM_BYTES = 40  # mmschema_ + 40 + _ + 8 hex digits: 58 bytes, within NAMEDATALEN
IDLE_VARIABLE = "MMSCHEMA_SERVER_IDLE"
DEFAULT_IDLE_S = 300.0
NEVER = ("off", "never", "0")
POLL_S = 15.0  # the longest the watcher sleeps between looks
# As root, where the data directory goes when the service user cannot reach the home.
OUTSIDE_BASES = (Path("/var/tmp"), Path(tempfile.gettempdir()))


@dataclass(frozen=True)
class EmbeddedHome:
    """Where one major's server lives.

    `root` (private to the user) holds the lock, port, password, last use and the
    watcher's files; `data_dir` is `root/pgdata`, or, as root when the unprivileged
    service user cannot reach `root` (a home of mode 0700), a directory under /var/tmp
    owned by root and passable by that user, which `root/pgdata` links to.
    """

    root: Path
    data_dir: Path
    major: int = EMBEDDED_MAJOR


@dataclass(frozen=True)
class ServerStatus:
    """What `mmschema server status` shows."""

    home: EmbeddedHome
    version: str
    running: bool
    port: int
    pid: int | None
    last_used: float | None  # seconds since the epoch
    idle_s: float | None  # the idle period the last use asked for; None: never stops
    watcher_pid: int | None


def embedded_home(env: Mapping[str, str] | None = None) -> EmbeddedHome:
    """The embedded server's home for this user, created if needed."""
    return home_at(mmschema_home(env) / "server" / str(EMBEDDED_MAJOR))


def home_at(root: Path) -> EmbeddedHome:
    """The home whose state directory is `root` (created if needed)."""
    user = service_user()
    _make_state_dir(root, user)
    local = root / "pgdata"
    if user is None or (reachable_by(root, user) and not local.is_symlink()):
        return EmbeddedHome(root, local)
    outside = _outside_dir(root) / "pgdata"
    if not local.is_symlink() or local.readlink() != outside:
        local.unlink(missing_ok=True)
        with contextlib.suppress(FileExistsError):  # another process links it meanwhile
            local.symlink_to(outside)
    return EmbeddedHome(root, outside)


def embedded_dsn(
    announce: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
    project: Path | None = None,
) -> str:
    """DSN of the embedded server's `postgres` database, started if needed; with a
    `project`, of that project's own database (created on its first use).

    `announce` is for the embedded server as the target: it gets the one line that says
    so. Used only as the scratch server, the embedded server is not worth a line.
    """
    env = os.environ if env is None else env
    idle = idle_seconds(env)
    home = embedded_home(env)
    server = _server(home)
    with _locked(home.root / "lock"):
        started = not server.is_running()
        if started:
            server.start()
            _save_port(home, server.port)
        _mark_used(home, idle)
        _ensure_watcher(home, idle)
    dsn = server.dsn(SERVER_DATABASE)
    database = None
    if project is not None:
        database = project_database(project)
        dsn = ensure_database(dsn, database)
    if announce is not None:
        announce(announcement(server, home, started, idle, database))
    return dsn


def project_database(project: Path) -> str:
    """The embedded database of the project in directory `project`: `mmschema_<its name>_
    <8 hex digits of the hash of its real path>`, so that two projects (two directories of
    one name too) never share one, and a project finds its own from any working directory."""
    real = Path(project).resolve()
    stem = re.sub(r"[^a-z0-9]+", "_", real.name.lower()).strip("_")
    stem = stem[:PROJECT_STEM_BYTES].rstrip("_") or "root"
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:8]
    return f"{PROJECT_PREFIX}{stem}_{digest}"


def scratch_dsn(env: Mapping[str, str] | None = None) -> str:
    """DSN of the database `mmschema_scratch` on the embedded server (created if missing)."""
    return ensure_database(embedded_dsn(env=env), SCRATCH_DATABASE)


def stop_embedded(env: Mapping[str, str] | None = None) -> bool:
    """Stop the embedded server and its watcher; whether the server was running."""
    home = embedded_home(env)
    server = _server(home)
    with _locked(home.root / "lock"):
        running = server.is_running()
        server.stop()
    _stop_watcher(home)
    return running


def server_status(env: Mapping[str, str] | None = None) -> ServerStatus:
    home = embedded_home(env)
    server = _server(home)
    running = server.is_running()
    info = read_pid_file(home.data_dir) if running else None
    used, idle = _last_use(home)
    return ServerStatus(
        home=home,
        version=server.version,
        running=running,
        port=server.port if running else 0,
        pid=info.pid if info else None,
        last_used=used,
        idle_s=idle,
        watcher_pid=_watcher_pid(home),
    )


def has_database(name: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether the running embedded server has database `name` (False when not running)."""
    server = _server(embedded_home(env))
    try:
        with psycopg.connect(server.dsn(SERVER_DATABASE), connect_timeout=5) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    except psycopg.Error:
        return False
    return row is not None


def idle_seconds(env: Mapping[str, str] | None = None) -> float | None:
    """The idle period after which the server stops: $MMSCHEMA_SERVER_IDLE (None: never)."""
    env = os.environ if env is None else env
    text = env.get(IDLE_VARIABLE, "").strip().lower()
    if not text:
        return DEFAULT_IDLE_S
    if text in NEVER:
        return None
    if text.isdigit():
        return float(text)
    from mmschema.desired.load import duration_ms

    ms = duration_ms(text)
    if ms is None:
        raise LocalServerError(
            f"{IDLE_VARIABLE}={text!r} is not a duration (e.g. 90s, 10min, 1h, or off)"
        )
    return ms / 1000 if ms else None


def describe_idle(idle_s: float | None) -> str:
    """`5 min`, `90 s`, ... for messages."""
    if idle_s is None:
        return "never"
    if idle_s >= 60 and idle_s % 60 == 0:
        return f"{idle_s / 60:g} min"
    return f"{idle_s:g} s"


def ensure_database(dsn: str, name: str) -> str:
    """Create database `name` on the server of `dsn` unless it exists; return its DSN."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found is None:
            # Another process may create it at the same moment.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(dsn, dbname=name)


def announcement(
    server: LocalServer,
    home: EmbeddedHome,
    started: bool,
    idle_s: float | None,
    database: str | None = None,
) -> str:
    """The one line that says the embedded server (and which database of it) is the target."""
    when = "just started; " if started else ""
    stops = (
        "runs until `mmschema server stop`"
        if idle_s is None
        else (f"stops after {describe_idle(idle_s)} idle")
    )
    which = f", database {database} (this project's own)" if database else ""
    return (
        "mmschema: no database configured; using the embedded PostgreSQL "
        f"{server.version} on 127.0.0.1:{server.port}{which} ({when}{stops}; "
        f"data in {shown_path(home.root)})"
    )


def shown_path(path: Path) -> str:
    """`path` with the home directory written `~`."""
    home = os.environ.get("HOME", "")
    if home and home != "/" and path.is_relative_to(home):
        return f"~/{path.relative_to(home)}"
    return str(path)


def legacy_servers(workdir: Path) -> list[LocalServer]:
    """Running servers that older versions started for `workdir` (in .mmschema/pgdata, or
    as root in /tmp/mmschema-<hash>/pgdata): `mmschema server stop` stops them too."""
    workdir = Path(workdir).absolute()
    key = hashlib.sha256(f"{os.geteuid()}:{workdir}".encode()).hexdigest()[:12]
    found = []
    for data_dir in (workdir / PROJECT_DIR / "pgdata", Path("/tmp") / f"mmschema-{key}" / "pgdata"):
        info = read_pid_file(data_dir)
        if info is not None and process_is_postgres(info.pid):
            found.append(LocalServer(embedded_bin_dir(), data_dir, port=info.port))
    return found


def watch_until_idle(home: EmbeddedHome) -> None:
    """Stop the server once no command has used it, and no client has been connected,
    for the idle period the last use asked for; return early when it stops otherwise."""
    server = _server(home)
    busy_at = 0.0
    while server.is_running():
        used_at, idle = _last_use(home)
        if idle is None:
            return
        wait = max(used_at or 0.0, busy_at) + idle - time.time()
        if wait > 0:
            time.sleep(min(wait, POLL_S) + 0.05)
            continue
        if _has_clients(server):
            busy_at = time.time()
            continue
        with _locked(home.root / "lock"):
            used_at, idle = _last_use(home)
            if idle is None or (used_at or 0.0) + idle > time.time():
                continue
            server.stop()
            return


def _server(home: EmbeddedHome) -> LocalServer:
    return LocalServer(
        embedded_bin_dir(), home.data_dir, port=_saved_port(home), password=_password(home)
    )


def _has_clients(server: LocalServer) -> bool:
    """Whether anyone but us is connected (a long apply); True when we cannot tell."""
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    try:
        with psycopg.connect(server.dsn(), connect_timeout=10) as conn:
            row = conn.execute(query).fetchone()
    except psycopg.Error:
        return True
    return bool(row and row[0])


def _mark_used(home: EmbeddedHome, idle_s: float | None) -> None:
    """Record a use now, and the idle period it asks for (0: never stop)."""
    path = home.root / "last-use"
    temporary = path.with_name(f".last-use.{os.getpid()}")
    with contextlib.suppress(OSError):
        temporary.write_text(f"{idle_s or 0:g}\n")
        temporary.replace(path)


def _last_use(home: EmbeddedHome) -> tuple[float | None, float | None]:
    """When the server was last used and the idle period that use asked for."""
    path = home.root / "last-use"
    try:
        used = path.stat().st_mtime
        idle = float(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return None, DEFAULT_IDLE_S
    return used, (idle or None)


def _ensure_watcher(home: EmbeddedHome, idle_s: float | None) -> None:
    """Start the idle watcher unless one runs (or no idle stop is wanted)."""
    if idle_s is None or _watcher_pid(home) is not None:
        return
    with (home.root / "watcher.log").open("a") as log:
        starter = subprocess.Popen(
            [sys.executable, "-m", "mmschema.idlestop", str(home.root)],
            executable=_running_interpreter(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd="/",
            start_new_session=True,  # no terminal: Ctrl-C and hang-ups are not for it
        )
    # It forks the watcher off and exits at once, so the watcher is nobody's zombie.
    starter.wait(timeout=60)


def _running_interpreter() -> str:
    """This interpreter by its open file where /proc tells: its path may cross a directory
    the user cannot search (a venv's python linking into another user's home)."""
    return "/proc/self/exe" if Path("/proc/self/exe").exists() else sys.executable


def _watcher_pid(home: EmbeddedHome) -> int | None:
    """The watcher's pid while one holds watcher.lock, else None."""
    try:
        handle = (home.root / "watcher.lock").open("a")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return int((home.root / "watcher.pid").read_text().strip())
            except (OSError, ValueError):
                return 0
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


@contextlib.contextmanager
def watcher_lock(root: Path) -> Iterator[bool]:
    """Hold watcher.lock for the watcher's life; yields False when another watcher has it."""
    with (root / "watcher.lock").open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        (root / "watcher.pid").write_text(f"{os.getpid()}\n")
        yield True


def _stop_watcher(home: EmbeddedHome) -> None:
    pid = _watcher_pid(home)
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def _password(home: EmbeddedHome) -> str | None:
    """The superuser's password, kept in a file only we can read (made with the cluster).

    A cluster made before passwords were used has none: it keeps trust authentication.
    """
    path = home.root / "password"
    with contextlib.suppress(OSError):
        return path.read_text().strip()
    if (home.data_dir / "PG_VERSION").exists():
        return None
    secret = secrets.token_urlsafe(24)
    with contextlib.suppress(OSError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secret + "\n")
        return secret
    return path.read_text().strip()  # another process made it first


def _make_state_dir(root: Path, user: ServiceUser | None) -> None:
    """Create `root` private to us; as root, passable (not readable) by the service user,
    with its two parents, so that the data directory can live inside when the rest of
    the path allows it."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    if user is None:
        return
    for directory in (root, root.parent, root.parent.parent):
        st = directory.stat()
        if st.st_uid == os.geteuid() and st.st_mode & 0o011 != 0o011:
            directory.chmod(stat.S_IMODE(st.st_mode) | 0o011)


def _outside_dir(root: Path) -> Path:
    """As root: a directory of ours that the service user can pass, keyed by `root`."""
    key = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    base = next((b for b in OUTSIDE_BASES if b.is_dir()), Path("/tmp"))
    path = base / f"mmschema-{key}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o711)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise LocalServerError(f"{path} exists but is not a directory of ours; remove it")
    path.chmod(0o711)
    return path


def _saved_port(home: EmbeddedHome) -> int:
    try:
        return int((home.root / "port").read_text().strip())
    except (OSError, ValueError):
        return 0


def _save_port(home: EmbeddedHome, port: int) -> None:
    with contextlib.suppress(OSError):
        (home.root / "port").write_text(f"{port}\n")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `path`: one process at a time starts, uses or stops."""
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
