"""The server command: status and stop of the embedded PostgreSQL."""

from __future__ import annotations

import argparse
import time

from mmschema.command_base import ExitStatus
from mmschema.commands.common import consoles
from mmschema.embedded import (
    ServerStatus,
    describe_idle,
    has_database,
    legacy_servers,
    project_database,
    server_status,
    shown_path,
    stop_embedded,
)
from mmschema.environment import Environment


def server(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    out, _ = consoles(environment)
    if args.action == "stop":
        name = f"the embedded PostgreSQL {server_status(environment.env).version}"
        said = f"stopped {name}" if stop_embedded(environment.env) else f"{name} is not running"
        for old in legacy_servers(environment.cwd):
            old.stop()
            said += f"; stopped an older mmschema's server in {shown_path(old.data_dir)}"
        out.print(said, markup=False)
        return ExitStatus.OK
    status = server_status(environment.env)
    for line in [*status_lines(status), *project_lines(status, environment)]:
        out.print(line, markup=False)
    for old in legacy_servers(environment.cwd):
        out.print(
            f"an older mmschema's server still runs in {shown_path(old.data_dir)} "
            f"(127.0.0.1:{old.port}); `mmschema server stop` stops it",
            markup=False,
        )
    return ExitStatus.OK


def status_lines(status: ServerStatus) -> list[str]:
    name = f"embedded PostgreSQL {status.version}"
    data = f"data: {shown_path(status.home.data_dir)}"
    if not status.running:
        return [f"{name}: not running", data]
    stops = (
        "runs until `mmschema server stop`"
        if status.idle_s is None
        else f"stops after {describe_idle(status.idle_s)} idle"
    )
    watcher = f", idle watcher pid {status.watcher_pid}" if status.watcher_pid else ""
    used = ""
    if status.last_used is not None:
        used = f"last used {max(0, round(time.time() - status.last_used))} s ago, "
    return [
        f"{name}: running on 127.0.0.1:{status.port} (pid {status.pid}{watcher}); {used}{stops}",
        data,
    ]


def project_lines(status: ServerStatus, environment: Environment) -> list[str]:
    """This project's database (the working directory's) and how to connect to it."""
    name = project_database(environment.cwd)
    if not status.running:
        state = "; the server is not running"
    elif has_database(name, environment.env):
        state = ""
    else:
        state = "; not created yet: the first command here without -d creates it"
    lines = [f"this project's database: {name} (for {shown_path(environment.cwd)}{state})"]
    if status.running:
        password = shown_path(status.home.root / "password")
        lines.append(
            f"connect: PGPASSWORD=$(cat {password}) psql -h 127.0.0.1 -p {status.port} "
            f"-U postgres {name}"
        )
    return lines
