"""The embedded PostgreSQL as a user meets it: one per user, shared by projects (each with a
database of its own), kept in the user's cache, stopped when idle or on `mmschema server
stop`, and named only when it is the target. Everything runs the installed command in a
fresh directory."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg
import pytest

from mmschema.localserver import embedded_bin_dir, free_port
from tests.outside import Shell

ANNOUNCED = "no database configured; using the embedded PostgreSQL"
SCHEMA = """\
version: 1
tables:
  notes:
    columns:
      id: {type: int4}
      body: {type: text, default: "''"}
    primary_key: [id]
"""


def status(shell: Shell, env: Mapping[str, str] | None = None) -> str:
    result = shell.run("server", "status", env=env)
    assert result.code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, text
    return int(found.group(1))


def alive(pid: int) -> bool:
    """Whether the process exists at all (a zombie does)."""
    return Path(f"/proc/{pid}").exists()


def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def owner_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def zombie_children() -> list[int]:
    """Our own children that exited and were never waited for."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


def test_projects_share_one_server_kept_in_the_users_cache(shell: Shell) -> None:
    shell.write("schema.yaml", SCHEMA)
    first = shell.run("plan")
    assert first.code == 0, first.output
    other = shell.elsewhere("other")
    other.write("schema.yaml", SCHEMA)
    second = other.run("plan")
    assert second.code == 0, second.output
    assert "just started" in first.stderr
    assert "just started" not in second.stderr
    port = number(r"127\.0\.0\.1:(\d+)", first.stderr)
    assert number(r"127\.0\.0\.1:(\d+)", second.stderr) == port

    text = status(shell)
    assert f"running on 127.0.0.1:{port}" in text
    pid = number(r"\(pid (\d+)", text)
    assert owner_uid(pid) != 0  # PostgreSQL never runs as root
    state = shell.user.home / ".cache" / "mmschema" / "server" / "18"
    assert (state / "pgdata" / "PG_VERSION").is_file()
    # Root's home is closed to the service user: the data lives outside, linked from there.
    assert (state / "pgdata").is_symlink() == shell.user.is_root
    for project in (shell.project, other.project):
        assert sorted(p.name for p in (project / ".mmschema").iterdir()) == [".gitignore", "cache"]

    stopped = shell.run("server", "stop")
    assert stopped.code == 0, stopped.output
    assert stopped.stdout.startswith("stopped the embedded PostgreSQL 18")
    assert "not running" in status(shell)
    wait_until(lambda: not alive(pid), 30)
    again = shell.run("server", "stop")
    assert again.code == 0
    assert "is not running" in again.stdout


def test_each_project_gets_its_own_database(shell: Shell) -> None:
    """Without -d, a project's objects live in a database of its own on the shared server:
    another project's plan does not see them and its --prune cannot drop them."""
    shell.write("schema.yaml", SCHEMA)
    other = shell.elsewhere("other")
    other.write("schema.yaml", SCHEMA.replace("notes", "trades"))
    names = []
    for project in (shell, other):
        applied = project.run("apply", "--yes")
        assert applied.code == 0, applied.output
        names.append(re.findall(r"database (mmschema_\w+) \(this project's own\)", applied.stderr))
    [[mine], [theirs]] = names
    assert mine.startswith("mmschema_project_") and theirs.startswith("mmschema_other_")
    for project, stranger in ((shell, "trades"), (other, "notes")):
        again = project.run("plan", "--detailed-exitcode")
        assert again.code == 0, again.output
        assert "0 unmanaged" in again.stdout and stranger not in again.stdout
    pruned = shell.run("apply", "--yes", "--prune", "--allow", "destructive")
    assert pruned.code == 0, pruned.output
    kept = other.run("drift")
    assert kept.code == 0, kept.output
    # The project is where the schema file is, whatever the working directory.
    elsewhere = other.run("plan", "-f", str(shell.path("schema.yaml")), "--detailed-exitcode")
    assert elsewhere.code == 0, elsewhere.output
    assert f"database {mine} " in elsewhere.stderr

    text = status(shell)
    assert f"this project's database: {mine} (for " in text
    connect = next(line for line in text.splitlines() if line.startswith("connect: "))
    assert connect.endswith(f" -U postgres {mine}")
    port = number(r"127\.0\.0\.1:(\d+)", text)
    password = (shell.user.home / ".cache/mmschema/server/18/password").read_text().strip()
    assert password not in text
    dsn = f"postgresql://postgres:{password}@127.0.0.1:{port}/{mine}"
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('notes') IS NOT NULL").fetchone() == (True,)
        assert conn.execute("SELECT to_regclass('trades')").fetchone() == (None,)
    fresh = shell.elsewhere("fresh")
    assert "not created yet" in status(fresh)


def test_an_idle_server_stops_by_itself_and_leaves_no_process(shell: Shell) -> None:
    shell.write("schema.yaml", SCHEMA)
    # The idle period counts from the command's first use of the server: long enough that a
    # plan slowed by a busy machine (parallel test workers) is still well inside it.
    idle = {"MMSCHEMA_SERVER_IDLE": "20s"}
    # run() waits for the command's stdout and stderr to close: the watcher holds neither.
    planned = shell.run("plan", env=idle, timeout=60)
    assert planned.code == 0, planned.output
    text = status(shell)
    assert "stops after 20 s idle" in text
    server = number(r"\(pid (\d+)", text)
    watcher = number(r"idle watcher pid (\d+)", text)
    assert os.getsid(watcher) != os.getsid(0)  # a session of its own, no terminal
    watcher_stat = Path(f"/proc/{watcher}/stat").read_text().rsplit(")", 1)[1].split()
    assert watcher_stat[4] == "0"  # tty_nr: no controlling terminal
    assert int(watcher_stat[1]) != os.getpid()

    wait_until(lambda: "not running" in status(shell), 60)
    wait_until(lambda: not alive(server) and not alive(watcher), 30)  # reaped, not zombies
    assert zombie_children() == []
    again = shell.run("plan", env=idle)
    assert again.code == 0, again.output
    assert "just started" in again.stderr


def test_concurrent_commands_start_one_server(shell: Shell) -> None:
    shell.write("schema.yaml", SCHEMA)
    runs = [shell.start("plan") for _ in range(3)]
    results = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], results
    started = [err for _out, err in results if "just started" in err]
    assert len(started) == 1, results
    assert len({number(r"127\.0\.0\.1:(\d+)", err) for _out, err in results}) == 1


def test_the_idle_period_must_be_a_duration(shell: Shell) -> None:
    shell.write("schema.yaml", SCHEMA)
    result = shell.run("plan", env={"MMSCHEMA_SERVER_IDLE": "soon"})
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "mmschema: MMSCHEMA_SERVER_IDLE='soon' is not a duration (e.g. 90s, 10min, 1h, or off)"
    ]


def test_nothing_mmschema_writes_reaches_git(shell: Shell) -> None:
    def git(*args: str) -> str:
        result = shell.run(*args, command=["git"])
        assert result.code == 0, result.output
        return result.stdout

    git("init", "-q")
    shell.write("schema.yaml", SCHEMA)
    git("add", "schema.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "schema")
    for args in (["validate"], ["plan"], ["apply", "--yes"], ["drift"], ["dump"], ["history"]):
        result = shell.run(*args)
        assert result.code == 0, (args, result.output)
        assert git("status", "--porcelain", "--untracked-files=all") == "", args


@pytest.mark.one_major
def test_a_given_database_is_never_called_the_embedded_one(shell: Shell, db: str) -> None:
    """With -d, the embedded server is only the scratch server: no line says otherwise."""
    shell.write("schema.yaml", SCHEMA)
    planned = shell.run("plan", "-d", db)
    assert planned.code == 0, planned.output
    assert ANNOUNCED not in planned.output
    applied = shell.run("apply", "-d", db, "--yes")
    assert applied.code == 0, applied.output
    assert ANNOUNCED not in applied.output


def test_the_embedded_target_is_announced_once_at_the_start(shell: Shell) -> None:
    shell.write("schema.yaml", SCHEMA)
    cold = shell.run("plan")
    assert cold.code == 0, cold.output
    assert cold.stderr.count(ANNOUNCED) == 1
    applied = shell.run("apply", "--yes")
    assert applied.code == 0, applied.output
    assert applied.stderr.count(ANNOUNCED) == 1
    assert ANNOUNCED in applied.stderr.splitlines()[0]
    assert ANNOUNCED not in applied.stdout


def cache_entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.pickle"))


@pytest.mark.one_major
def test_a_new_process_with_another_hash_seed_hits_the_cache(shell: Shell, db: str) -> None:
    """The scratch server (stopped after the first run) is not started again."""
    shell.write("schema.yaml", SCHEMA)
    applied = shell.run("apply", "-d", db, "--yes", env={"PYTHONHASHSEED": "1"})
    assert applied.code == 0, applied.output
    cache = shell.project / ".mmschema" / "cache"
    entries = cache_entries(cache)
    assert entries
    assert shell.run("server", "stop").code == 0
    for seed in ("2", "3"):
        planned = shell.run("plan", "-d", db, "--detailed-exitcode", env={"PYTHONHASHSEED": seed})
        assert planned.code == 0, planned.output
        assert "not running" in status(shell), seed
        assert cache_entries(cache) == entries


def unreachable(dsn: str) -> str:
    """The same server and database as `dsn` (the cache's identity of a --dev-database),
    as a role that does not exist: connecting to it fails."""
    port = number(r"port=(\d+)", dsn)
    return f"postgresql://no_such_role@127.0.0.1:{port}/mmschema_scratch?connect_timeout=3"


@pytest.mark.one_major
def test_a_cache_dir_restored_on_a_fresh_runner_hits(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """MMSCHEMA_CACHE_DIR, as CI caches it: a new home (a fresh runner) and another
    checkout of the project plan without contacting the scratch server."""
    shell.write("schema.yaml", SCHEMA)
    shared = shell.elsewhere("ci-cache")
    env = {"MMSCHEMA_CACHE_DIR": str(shared.project), "PYTHONHASHSEED": "1"}
    first = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, env=env)
    assert first.code == 0, first.output
    assert not (shell.project / ".mmschema").exists()
    assert (shared.project / "cache.key").stat().st_mode & 0o777 == 0o600

    checkout = shell.elsewhere("checkout")
    checkout.write("schema.yaml", SCHEMA)
    fresh_home = shell.elsewhere("fresh-home").project
    env.update(HOME=str(fresh_home), PYTHONHASHSEED="2")
    second = checkout.run("plan", "-d", db, "--dev-database", unreachable(scratch_dsn), env=env)
    assert second.code == 0, second.output
    assert second.stdout == first.stdout
    missed = checkout.run("plan", "-d", db, "--dev-database", unreachable(scratch_dsn))
    assert missed.code == 1  # without the cache it must connect, and cannot
    assert "no_such_role" in missed.stderr


@pytest.mark.one_major
def test_stale_cache_entries_are_pruned(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write("schema.yaml", SCHEMA)
    holder = shell.elsewhere("cache")
    cache = holder.project
    month_ago = time.time() - 40 * 24 * 3600
    for i in range(1005):
        entry = holder.write(f"{i:04}.pickle", "x")
        if i < 5:
            os.utime(entry, (month_ago, month_ago))
    result = shell.run(
        "plan", "-d", db, "--dev-database", scratch_dsn, env={"MMSCHEMA_CACHE_DIR": str(cache)}
    )
    assert result.code == 0, result.output
    left = cache_entries(cache)
    assert len(left) == 1000
    assert not {f"{i:04}.pickle" for i in range(5)} & set(left)
    assert len([name for name in left if len(name) > 20]) == 1  # the plan's own entry


def test_server_stop_also_stops_an_older_versions_project_server(shell: Shell) -> None:
    """Older versions left a server running in each project's .mmschema/pgdata."""
    if shell.user.is_root:
        pytest.skip("older versions ran root's servers from /tmp, as the service user")
    bin_dir = embedded_bin_dir()
    data = ".mmschema/pgdata"
    made = shell.run("-D", data, "-U", "postgres", "-A", "trust", command=[str(bin_dir / "initdb")])
    assert made.code == 0, made.output
    options = f"-p {free_port()} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    started = shell.run(
        "-D",
        data,
        "-l",
        ".mmschema/log",
        "-w",
        "-o",
        options,
        "start",
        command=[str(bin_dir / "pg_ctl")],
    )
    assert started.code == 0, started.output
    pid = int((shell.project / data / "postmaster.pid").read_text().split()[0])
    assert "an older mmschema's server still runs in" in status(shell)
    stopped = shell.run("server", "stop")
    assert stopped.code == 0, stopped.output
    assert "stopped an older mmschema's server in" in stopped.stdout
    wait_until(lambda: not alive(pid), 30)


def test_a_connected_client_keeps_the_server_from_stopping(shell: Shell) -> None:
    """A long apply holds a connection: the idle period starts when it ends."""
    shell.write("schema.yaml", SCHEMA)
    idle = {"MMSCHEMA_SERVER_IDLE": "20s"}  # see the test above
    assert shell.run("plan", env=idle).code == 0
    port = number(r"127\.0\.0\.1:(\d+)", status(shell))
    state = shell.user.home / ".cache" / "mmschema" / "server" / "18"
    password = (state / "password").read_text().strip()
    dsn = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
    with psycopg.connect(dsn) as conn:
        time.sleep(30)
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert "running on" in status(shell)
    wait_until(lambda: "not running" in status(shell), 60)
