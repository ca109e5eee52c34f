"""Runs the installed `mmschema` command as a subprocess in a fresh directory, as a user does."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mmschema.localserver import SERVICE_USERS, process_is_postgres

MMSCHEMA = Path(sys.prefix) / "bin" / "mmschema"
# Variables of the developer's shell that would point the command somewhere else.
SCRUBBED = ("DATABASE_URL", "MMSCHEMA_DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE",
            "PGUSER", "PGPASSWORD", "PGSERVICE", "PYTHONPATH", "XDG_CACHE_HOME",
            "MMSCHEMA_HOME", "MMSCHEMA_CACHE_DIR", "MMSCHEMA_SERVER_IDLE")


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass(frozen=True)
class User:
    """Who runs the command: root (when the suite runs as root) or an unprivileged account."""

    name: str
    uid: int
    gid: int
    home: Path

    @property
    def is_root(self) -> bool:
        return self.uid == 0


class Shell:
    """A fresh project directory and home for one user, and `mmschema ...` run inside it."""

    def __init__(self, user: User, project: Path) -> None:
        self.user = user
        self.project = project

    def path(self, name: str) -> Path:
        return self.project / name

    def write(self, name: str, text: str) -> Path:
        target = self.project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        _give(target, self.user)
        return target

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env.update(HOME=str(self.user.home), USER=self.user.name, LOGNAME=self.user.name)
        env.setdefault("PYTHONHASHSEED", "random")
        env.update(extra or {})
        return env

    def elsewhere(self, name: str) -> Shell:
        """Another project directory of the same user (beside this one)."""
        project = self.project.parent / name
        project.mkdir()
        _give(project, self.user)
        return Shell(self.user, project)

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """`mmschema ARGS` started in the project, not waited for (stdout/stderr piped)."""
        return subprocess.Popen(
            self.argv(*args), cwd=self.project, env=self.env(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: str = "",
        timeout: float = 120,
        command: Sequence[str] | None = None,
    ) -> Outcome:
        """`mmschema ARGS` (or another `command`) in the project, as the user, a new process."""
        done = subprocess.run(
            self.argv(*args, command=command), cwd=self.project, env=self.env(env),
            input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def argv(self, *args: str, command: Sequence[str] | None = None) -> list[str]:
        """The command line that runs `mmschema ARGS` (or `command`) as the user."""
        argv = [*(command or [str(MMSCHEMA)]), *args]
        if not self.user.is_root and os.geteuid() == 0:
            argv = ["setpriv", f"--reuid={self.user.uid}", f"--regid={self.user.gid}",
                    "--clear-groups", "--", *argv]
        return argv


def plan_code(shell: Shell, db: str, scratch_dsn: str) -> int:
    """`mmschema plan --detailed-exitcode` against `db`: its exit code (never a traceback)."""
    outcome = shell.run("plan", "--detailed-exitcode", "-d", db, "--dev-database", scratch_dsn)
    assert "Traceback" not in outcome.output
    return outcome.code


def _give(path: Path, user: User) -> None:
    if os.geteuid() == 0 and not user.is_root:
        os.chown(path, user.uid, user.gid)


def users() -> list[str]:
    """`root` and `user` when the suite runs as root, else just `user` (the current one)."""
    return ["root", "user"] if os.geteuid() == 0 else ["user"]


def taking_turns(values: Iterable[object], ids: Iterable[str] | None = None) -> list[Any]:
    """Parameter sets `(value, user)` for variations of one input (hostile fields, keys)
    that need not each run as every user: the users take turns, so each user still runs
    some of them. Use with `@pytest.mark.parametrize((NAME, "shell"), ..., indirect=["shell"])`."""
    kinds = users()
    values = list(values)
    names = list(ids) if ids is not None else [str(value) for value in values]
    return [
        pytest.param(value, kinds[i % len(kinds)], id=f"{kinds[i % len(kinds)]}-{name}")
        for i, (value, name) in enumerate(zip(values, names, strict=True))
    ]


def make_user(kind: str, base: Path) -> User:
    """The account for `kind` with a fresh, empty home under `base`."""
    home = base / f"home-{kind}"
    home.mkdir(mode=0o700)  # as /root is: closed to PostgreSQL's service user
    if kind == "root" or os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return User(entry.pw_name, entry.pw_uid, entry.pw_gid, home)
    for name in SERVICE_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        user = User(name, entry.pw_uid, entry.pw_gid, home)
        os.chown(home, user.uid, user.gid)
        return user
    pytest.skip("running as root with no unprivileged account to run as")


@pytest.fixture(params=users())
def shell(request: pytest.FixtureRequest) -> Iterator[Shell]:
    """A fresh project directory, run as root and as a normal user (when the suite is root)."""
    # Not under pytest's basetemp: its 0700 parent would hide the project from a normal
    # user's absolute paths (a user's own project directory is always reachable).
    base = Path(tempfile.mkdtemp(prefix="mmschema-outside-"))
    base.chmod(0o755)
    user = make_user(str(request.param), base)
    project = base / "project"
    project.mkdir()
    _give(project, user)
    yield Shell(user, project)
    stop_servers_under(base)
    shutil.rmtree(base, ignore_errors=True)


def stop_servers_under(base: Path) -> None:
    """Fast shutdown of every PostgreSQL whose data directory lies under `base` (or is
    linked from there: root's embedded server keeps its data under /var/tmp), and of the
    embedded servers' idle watchers; the linked data directories are removed."""
    linked = [link for link in base.rglob("pgdata") if link.is_symlink()]
    outside = [Path(os.readlink(link)) for link in linked]
    for pid_file in base.rglob("watcher.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text())
            if b"mmschema.idlestop" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGTERM)
    postmasters = []
    for pid_file in [*base.rglob("postmaster.pid"), *(d / "postmaster.pid" for d in outside)]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGINT)
            postmasters.append(pid)
    deadline = time.monotonic() + 30
    while postmasters and time.monotonic() < deadline:
        postmasters = [pid for pid in postmasters if process_is_postgres(pid)]
        time.sleep(0.1)
    for data_dir in outside:
        if data_dir.parent.name.startswith("mmschema-"):
            shutil.rmtree(data_dir.parent, ignore_errors=True)
