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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from mmschema.localserver import SERVICE_USERS

MMSCHEMA = Path(sys.prefix) / "bin" / "mmschema"
# Variables of the developer's shell that would point the command somewhere else.
SCRUBBED = ("DATABASE_URL", "MMSCHEMA_DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE",
            "PGUSER", "PGPASSWORD", "PGSERVICE", "PYTHONPATH", "XDG_CACHE_HOME")


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


def _give(path: Path, user: User) -> None:
    if os.geteuid() == 0 and not user.is_root:
        os.chown(path, user.uid, user.gid)


def users() -> list[str]:
    """`root` and `user` when the suite runs as root, else just `user` (the current one)."""
    return ["root", "user"] if os.geteuid() == 0 else ["user"]


def make_user(kind: str, base: Path) -> User:
    """The account for `kind` with a fresh, empty home under `base`."""
    home = base / f"home-{kind}"
    home.mkdir()
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
    """Fast shutdown of every PostgreSQL whose data directory lies under `base`."""
    for pid_file in base.rglob("postmaster.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)
