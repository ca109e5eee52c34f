"""Fleet benchmark: drift and plan over many databases of one server, serial against
`--parallel N`, and the same through the Ansible module (ansible-playbook, one host each);
with the CPU seconds of mmschema's processes and of the server, per target."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

from bench._common import ROOT, make_dir, print_table, throwaway_server
from mmschema.localserver import LocalServer, read_pid_file

BIN = Path(sys.prefix) / "bin"
COLLECTION = ROOT / "ansible_collections" / "mmschema" / "mmschema"
PLAYBOOK = """\
- hosts: fleet
  gather_facts: false
  tasks:
    - name: schema
      mmschema.mmschema.mmschema:
        database: "{{ dsn }}"
        dev_database: "{{ scratch }}"
        chdir: "{{ project }}"
        action: "{{ act }}"
"""


def schema_yaml(tables: int) -> str:
    lines = ["version: 1", "tables:"]
    for i in range(tables):
        lines += [
            f"  t{i:04d}:",
            "    columns:",
            "      id:      {type: bigint, identity: always}",
            "      name:    {type: text, nullable: false}",
            "      amount:  {type: \"numeric(12,2)\"}",
            "      created: {type: timestamp with time zone, default: now()}",
            "    primary_key: [id]",
            "    indexes:",
            f"      t{i:04d}_name: {{columns: [name]}}",
        ]
    return "\n".join(lines) + "\n"


# Compiled modules are kept as an installed package keeps them (this variable, when the
# developer's shell sets it, makes every process compile all of mmschema again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def mmschema(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    """The installed command as a user runs it: its wall time and its result."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "mmschema"), *args], cwd=cwd, env=ENV, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    return time.perf_counter() - start, done


class CpuMeter:
    """CPU seconds (user + system) of this process's finished children (mmschema and its
    workers, which it waits for) and of the server's finished backends (the postmaster's)."""

    def __init__(self, server: LocalServer) -> None:
        info = read_pid_file(server.data_dir)
        assert info is not None
        self.postmaster = info.pid
        self.ticks = os.sysconf("SC_CLK_TCK")

    def now(self) -> tuple[float, float]:
        own = resource.getrusage(resource.RUSAGE_CHILDREN)
        fields = Path(f"/proc/{self.postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        server = sum(int(f) for f in fields[11:15]) / self.ticks  # utime stime cutime cstime
        return own.ru_utime + own.ru_stime, server

    def since(self, before: tuple[float, float]) -> tuple[float, float]:
        time.sleep(0.2)  # backends that just closed are reaped by the postmaster
        after = self.now()
        return after[0] - before[0], after[1] - before[1]


def execute(dsn: str, *statements: sql.Composed | str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode() if isinstance(statement, str) else statement)


def build_fleet(server: LocalServer, work: Path, count: int, tables: int) -> dict[str, str]:
    """`count` databases copied from one converged base; every 10th misses an index, every
    10th (another) a column: three distinct plans."""
    execute(server.dsn(), "CREATE DATABASE fleet_base", "CREATE DATABASE fleet_scratch")
    (work / "schema.yaml").write_text(schema_yaml(tables))
    scratch = server.dsn("fleet_scratch")
    _, done = mmschema(["apply", "-d", server.dsn("fleet_base"), "--dev-database", scratch,
                        "--yes"], work)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"applying the base failed: {done.stderr}")
    execute(server.dsn("fleet_base"), "DROP SCHEMA mmschema CASCADE")
    dsns: dict[str, str] = {}
    for k in range(count):
        name = f"tenant_{k:03d}"
        execute(server.dsn(), sql.SQL("CREATE DATABASE {} TEMPLATE fleet_base").format(
            sql.Identifier(name)))  # fmt: skip
        dsns[name] = server.dsn(name)
        if k % 10 == 3:
            execute(dsns[name], "DROP INDEX t0001_name")
        elif k % 10 == 7:
            execute(dsns[name], "ALTER TABLE t0002 DROP COLUMN amount")
    lines = ["targets:", *(f'  {n}: {{dsn: "{d}"}}' for n, d in dsns.items())]
    (work / "targets.yaml").write_text("\n".join(lines) + "\n")
    return dsns


def inventory_runs(
    work: Path, scratch: str, parallel: int, meter: CpuMeter, limit: str | None = None
) -> dict[str, tuple[float, float, float]]:
    """Per command: wall seconds, mmschema's CPU seconds, the server's CPU seconds."""
    times: dict[str, tuple[float, float, float]] = {}
    for command in ("drift", "plan"):
        args = [command, "-i", "targets.yaml", "--dev-database", scratch, "--format", "json"]
        if limit:
            args += ["--limit", limit]
        before = meter.now()
        seconds, done = mmschema([*args, "--parallel", str(parallel)], work)
        client, server = meter.since(before)
        document = json.loads(done.stdout)
        failed = [t["name"] for t in document["targets"] if t["exit_code"] not in (0, 2)]
        if failed:
            raise SystemExit(f"{command} failed on {failed}: {done.stderr[-2000:]}")
        times[command] = (seconds, client, server)
    return times


def per_host_runs(work: Path, scratch: str, dsns: dict[str, str]) -> dict[str, float]:
    """One `mmschema COMMAND -d DSN` process per database, one after another."""
    times: dict[str, float] = {}
    for command in ("drift", "plan"):
        start = time.perf_counter()
        for dsn in dsns.values():
            mmschema([command, "-d", dsn, "--dev-database", scratch, "--format", "json"], work)
        times[command] = time.perf_counter() - start
    return times


def ansible_runs(
    work: Path, scratch: str, dsns: dict[str, str], forks: int, on_host: bool = False
) -> dict[str, float]:
    """ansible-playbook over one host per database. `on_host`: the module on each host
    (a task environment keeps the action plugin from running it in Ansible's process),
    with pipelining, as the collection's README recommends for remote hosts."""
    env = {k: v for k, v in ENV.items() if not k.startswith("ANSIBLE_")}
    env.update(
        LC_ALL="C.UTF-8", PYTHONWARNINGS="ignore", ANSIBLE_HOME=str(work / "ansible"),
        ANSIBLE_LOCAL_TEMP=str(work / "ansible" / "tmp"),
        ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_FORKS=str(forks),
        ANSIBLE_PIPELINING="1" if on_host else "0",
    )  # fmt: skip
    if not (work / "collections").exists():
        subprocess.run(
            [str(BIN / "ansible-galaxy"), "collection", "install", str(COLLECTION), "-p",
             str(work / "collections")], env=env, capture_output=True, check=True,
        )  # fmt: skip
        hosts = {name: {"dsn": dsn} for name, dsn in dsns.items()}
        common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                  "scratch": scratch, "project": str(work)}  # fmt: skip
        (work / "hosts.yaml").write_text(json.dumps({"fleet": {"hosts": hosts, "vars": common}}))
        (work / "site.yaml").write_text(PLAYBOOK)
        on_host_play = PLAYBOOK + '      environment: {MMSCHEMA_BENCH: "module on the host"}\n'
        (work / "site-on-host.yaml").write_text(on_host_play)
    times: dict[str, float] = {}
    playbook = "site-on-host.yaml" if on_host else "site.yaml"
    for command in ("drift", "plan"):
        start = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", "hosts.yaml", playbook, "-e",
             f"act={command}"], cwd=work, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        times[command] = time.perf_counter() - start
        if "failed=1" in done.stdout or done.returncode not in (0,):
            raise SystemExit(f"ansible-playbook {command} failed: {done.stdout[-3000:]}")
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument("--databases", type=int, default=50, help="databases in the fleet")
    parser.add_argument("--tables", type=int, default=20, help="tables in each database")
    parser.add_argument("--parallel", type=int, default=8, help="--parallel and Ansible forks")
    parser.add_argument("--major", type=int, default=17, help="PostgreSQL major (14-18)")
    parser.add_argument("--no-ansible", action="store_true", help="skip the Ansible rows")
    parser.add_argument(
        "--on-host", action="store_true", help="also the module on each host (forks 1, slow)"
    )
    args = parser.parse_args(argv)
    work = make_dir("fleet")
    try:
        with throwaway_server(args.major, {"max_connections": "200"}) as server:
            return run(server, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(server: LocalServer, args: argparse.Namespace, work: Path) -> int:
    n, p = args.databases, args.parallel
    dsns = build_fleet(server, work, n, args.tables)
    scratch = server.dsn("fleet_scratch")
    meter = CpuMeter(server)
    loads = [os.getloadavg()[0]]
    inventory_runs(work, scratch, p, meter)  # warm: the normalized file is cached from here on
    one = inventory_runs(work, scratch, 1, meter, limit="tenant_000")
    serial = inventory_runs(work, scratch, 1, meter)
    parallel = inventory_runs(work, scratch, p, meter)
    loads.append(os.getloadavg()[0])
    print(f"-i serial {serial}, --parallel {p} {parallel}", file=sys.stderr, flush=True)
    rows: list[list[str]] = []
    status = 0
    cores = os.cpu_count() or 1
    for command in ("drift", "plan"):
        wall, client, backend = serial[command]
        fixed = one[command][1] + one[command][2]  # start, imports, file, summary: one target
        per_target = (client + backend - fixed) / (n - 1)
        rows.append([f"-i, --parallel 1 ({command})", f"{wall:.2f} s",
                     f"CPU {client:.2f} s mmschema + {backend:.2f} s server"])  # fmt: skip
        pwall, pclient, pbackend = parallel[command]
        ratio = pwall / wall
        rows.append([f"-i, --parallel {p} ({command})", f"{pwall:.2f} s",
                     f"{ratio:.2f} of serial; CPU {pclient:.2f} s + {pbackend:.2f} s"])  # fmt: skip
        # CPU-bound: the best a machine with k free cores can do is the fixed part plus
        # the targets' CPU shared by min(k, p) cores, against serial's CPU sum.
        bound = {k: (fixed + per_target * n / min(k, p)) / (fixed + per_target * n)
                 for k in (cores, 4, 8)}  # fmt: skip
        rows.append([f"  CPU per target ({command})", f"{per_target * 1000:.0f} ms",
                     f"fixed {fixed:.2f} s; CPU-bound floor of the ratio: "
                     + ", ".join(f"{k} cores {v:.2f}" for k, v in bound.items())])  # fmt: skip
        if ratio > 0.2:
            status = 1
    if not args.no_ansible:
        loop = per_host_runs(work, scratch, dsns)
        print(f"one process per database {loop}", file=sys.stderr, flush=True)
        many = ansible_runs(work, scratch, dsns, p)
        print(f"ansible forks {p} {many}", file=sys.stderr, flush=True)
        single = ansible_runs(work, scratch, dsns, 1)
        print(f"ansible forks 1 {single}", file=sys.stderr, flush=True)
        remote = ansible_runs(work, scratch, dsns, 1, on_host=True) if args.on_host else {}
        loads.append(os.getloadavg()[0])
        for command in ("drift", "plan"):
            rows.append([f"{n} x mmschema {command} -d (one after another)",
                         f"{loop[command]:.2f} s", ""])  # fmt: skip
            added = (single[command] - loop[command]) / n
            rows.append([f"ansible-playbook, forks 1 ({command})", f"{single[command]:.2f} s",
                         f"{added:+.2f} s/host over {n} x mmschema -d"])  # fmt: skip
            rows.append([f"ansible-playbook, forks {p} ({command})", f"{many[command]:.2f} s",
                         f"{(many[command] - parallel[command][0]) / n:+.2f} s/host over "
                         f"-i --parallel {p}"])  # fmt: skip
            if command in remote:
                rows.append([f"ansible-playbook, module on host, forks 1 ({command})",
                             f"{remote[command]:.2f} s",
                             f"{(remote[command] - loop[command]) / n:+.2f} s/host over "
                             f"{n} x mmschema -d"])  # fmt: skip
            if added > 1:
                status = 1
    print(f"fleet: {n} databases x {args.tables} tables, PostgreSQL {server.major}, "
          f"{cores} cores, load average {' -> '.join(f'{x:.1f}' for x in loads)}")  # fmt: skip
    print_table(["run", "wall", "ratio"], rows)
    return status


if __name__ == "__main__":
    sys.exit(main())
