"""Fleet benchmark: drift and plan over many databases of one server, serial against
`--parallel N`, and the same through the Ansible module (ansible-playbook, one host each)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

from bench._common import ROOT, make_dir, print_table, throwaway_server
from mmschema.localserver import LocalServer

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


def inventory_runs(work: Path, scratch: str, parallel: int) -> dict[str, float]:
    times: dict[str, float] = {}
    for command in ("drift", "plan"):
        args = [command, "-i", "targets.yaml", "--dev-database", scratch, "--format", "json"]
        seconds, done = mmschema([*args, "--parallel", str(parallel)], work)
        document = json.loads(done.stdout)
        failed = [t["name"] for t in document["targets"] if t["exit_code"] not in (0, 2)]
        if failed:
            raise SystemExit(f"{command} failed on {failed}: {done.stderr[-2000:]}")
        times[command] = seconds
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


def ansible_runs(work: Path, scratch: str, dsns: dict[str, str], forks: int) -> dict[str, float]:
    env = {k: v for k, v in ENV.items() if not k.startswith("ANSIBLE_")}
    env.update(
        LC_ALL="C.UTF-8", PYTHONWARNINGS="ignore", ANSIBLE_HOME=str(work / "ansible"),
        ANSIBLE_LOCAL_TEMP=str(work / "ansible" / "tmp"),
        ANSIBLE_COLLECTIONS_PATH=str(work / "collections"), ANSIBLE_FORKS=str(forks),
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
    times: dict[str, float] = {}
    for command in ("drift", "plan"):
        start = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", "hosts.yaml", "site.yaml", "-e",
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
    inventory_runs(work, scratch, p)  # warm: the normalized file is cached from here on
    serial = inventory_runs(work, scratch, 1)
    parallel = inventory_runs(work, scratch, p)
    print(f"-i serial {serial}, --parallel {p} {parallel}", file=sys.stderr, flush=True)
    rows = [
        [f"-i, --parallel 1 ({command})", f"{serial[command]:.2f} s", ""] for command in serial
    ]
    rows += [
        [f"-i, --parallel {p} ({command})", f"{parallel[command]:.2f} s",
         f"{parallel[command] / serial[command]:.2f} of serial"]
        for command in parallel
    ]  # fmt: skip
    status = 0
    if max(parallel[c] / serial[c] for c in serial) > 0.2:
        status = 1
    if not args.no_ansible:
        loop = per_host_runs(work, scratch, dsns)
        print(f"one process per database {loop}", file=sys.stderr, flush=True)
        many = ansible_runs(work, scratch, dsns, p)
        print(f"ansible forks {p} {many}", file=sys.stderr, flush=True)
        one = ansible_runs(work, scratch, dsns, 1)
        print(f"ansible forks 1 {one}", file=sys.stderr, flush=True)
        for command in ("drift", "plan"):
            rows.append([f"{n} x mmschema {command} -d (one after another)",
                         f"{loop[command]:.2f} s", ""])  # fmt: skip
            added = (one[command] - loop[command]) / n
            rows.append([f"ansible-playbook, forks 1 ({command})", f"{one[command]:.2f} s",
                         f"+{added:.2f} s/host over {n} x mmschema -d"])  # fmt: skip
            rows.append([f"ansible-playbook, forks {p} ({command})", f"{many[command]:.2f} s",
                         f"+{(many[command] - parallel[command]) / n:.2f} s/host over "
                         f"-i --parallel {p}"])  # fmt: skip
            if added > 1:
                status = 1
    print(f"fleet: {n} databases x {args.tables} tables, PostgreSQL {server.major}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print_table(["run", "wall", "ratio"], rows)
    return status


if __name__ == "__main__":
    sys.exit(main())
