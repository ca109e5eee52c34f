"""The Ansible collection: `ansible-galaxy collection install`, then real `ansible-playbook`
runs of the `mmschema` module on four hosts (connection: local), as root and as a normal
user: check mode with --diff, hazards gated by `allow`, a saved plan applied, drift, an
unreachable host failed with mmschema's message, and no password in any output. Each of
the three ways a task runs mmschema is taken: the action plugin in Ansible's own process
(local hosts), the module importing mmschema (a task `environment`), and the module
running the command (`executable`)."""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from mmschema.localserver import LocalServer
from tests.conftest import ROOT, query, run_sql
from tests.outside import Outcome, Shell

BIN = Path(sys.prefix) / "bin"
COLLECTION = ROOT / "ansible_collections" / "mmschema" / "mmschema"
SECRET = "s3cret-in-the-dsn"
SCHEMA = """\
version: 1
tables:
  accounts:
    columns:
      id:    {type: bigint, nullable: false}
      email: {type: text}
    primary_key: [id]
"""
PLAYBOOK = """\
- hosts: tenants
  gather_facts: false
  tasks:
    - name: schema
      mmschema.mmschema.mmschema: &task
        database: "{{ dsn }}"
        dev_database: "{{ scratch }}"
        chdir: "{{ project }}"
        file: "{{ omit if saved | default(false) else 'schema.yaml' }}"
        plan: "{{ inventory_hostname ~ '.json' if saved | default(false) else omit }}"
        out: "{{ omit if saved | default(false) else inventory_hostname ~ '.json' }}"
        allow: "{{ allow | default([]) }}"
        action: "{{ act | default('apply') }}"
        executable: "{{ exe | default(omit) }}"
      when: not (on_host | default(false))
    - name: schema (the module on the host)
      mmschema.mmschema.mmschema: *task
      environment: {MMSCHEMA_TEST: module}
      when: on_host | default(false)
"""


@pytest.fixture
def tenants(pg_server: LocalServer) -> Iterator[dict[str, str]]:
    """Three databases: two empty, one whose accounts.id is an integer (a rewrite)."""
    names = {t: f"t_ansible_{t}_{secrets.token_hex(3)}" for t in ("t1", "t2", "t3")}
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        for name in names.values():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsns = {t: pg_server.dsn(n) for t, n in names.items()}
    run_sql(dsns["t3"], "CREATE TABLE accounts (id integer PRIMARY KEY, email text)")
    try:
        yield dsns
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            for name in names.values():
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def with_password(dsn: str) -> str:
    """The DSN with a password (the test cluster trusts, so it is carried, never checked)."""
    return dsn.replace("://postgres@", f"://postgres:{SECRET}@")


def ansible_env(shell: Shell) -> dict[str, str]:
    """Ansible's home, temp and collections in the user's project; modules' files kept, so
    that a test can tell whether a module was sent at all."""
    base = shell.project
    return dict(
        LC_ALL="C.UTF-8",
        PYTHONWARNINGS="ignore",
        ANSIBLE_HOME=str(base / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(base / "ansible-tmp"),
        ANSIBLE_REMOTE_TEMP=str(base / "ansible-remote"),
        ANSIBLE_KEEP_REMOTE_FILES="1",
        ANSIBLE_COLLECTIONS_PATH=str(base / "collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_FORKS="4",
    )


def ansible(shell: Shell, *args: str) -> Outcome:
    """An Ansible command run as the shell's user in its project directory."""
    command = [str(BIN / args[0]), *args[1:]]
    return shell.run(command=command, env=ansible_env(shell), timeout=300)


def python_reachable(shell: Shell) -> bool:
    """Whether a process of the user's can start this Python (a module is started by a shell
    that Ansible starts): not when it lives under root's closed home, as a developer's
    pyenv does; the user's first process still can (setpriv starts it)."""
    return shell.run(command=["/bin/sh", "-c", f"{sys.executable} -c pass"]).code == 0


def modules_sent(shell: Shell) -> int:
    """How many module files Ansible wrote for the hosts (kept: ANSIBLE_KEEP_REMOTE_FILES)."""
    return len(list((shell.project / "ansible-remote").glob("*/AnsiballZ_mmschema.py")))


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP's counters per host."""
    found = {}
    for line in output[output.index("PLAY RECAP") :].splitlines()[1:]:
        host, _, counters = line.partition(":")
        if counters:
            found[host.strip()] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
    return found


def changed_failed(output: str) -> dict[str, tuple[int, int]]:
    return {h: (c["changed"], c["failed"]) for h, c in recap(output).items()}


@pytest.mark.one_major
def test_playbook_checks_diffs_and_applies_on_every_host(
    pg_server: LocalServer, tenants: dict[str, str], scratch_dsn: str, shell: Shell
) -> None:
    installed = ansible(
        shell, "ansible-galaxy", "collection", "install", str(COLLECTION), "-p", "collections"
    )
    assert installed.code == 0, installed.output
    documented = ansible(shell, "ansible-doc", "mmschema.mmschema.mmschema")
    assert documented.code == 0 and "allow" in documented.stdout, documented.output
    shell.write("schema.yaml", SCHEMA)
    hosts = {name: {"dsn": with_password(dsn)} for name, dsn in tenants.items()}
    hosts["down"] = {"dsn": f"postgresql://admin:{SECRET}@127.0.0.1:1/nowhere?connect_timeout=2"}
    common = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "scratch": scratch_dsn,
        "project": str(shell.project),
    }
    inventory = {"tenants": {"hosts": hosts, "vars": common}}
    shell.write("hosts.yaml", json.dumps(inventory))
    shell.write("site.yaml", PLAYBOOK)

    def playbook(*extra: str) -> Outcome:
        done = ansible(shell, "ansible-playbook", "-i", "hosts.yaml", "site.yaml", *extra)
        assert SECRET not in done.output
        assert "Traceback" not in done.output
        return done

    # Check mode with --diff: the plans, each one's SQL, nothing written; `down` fails.
    # Local hosts: the action plugin runs mmschema in Ansible's process, no module is sent.
    checked = playbook("--check", "--diff")
    out = checked.stdout
    assert checked.code == 2, checked.output
    assert changed_failed(out) == {"t1": (1, 0), "t2": (1, 0), "t3": (1, 0), "down": (0, 1)}
    assert out.count('CREATE TABLE "public"."accounts"') == 2, out
    assert 'ALTER TABLE "public"."accounts" ALTER COLUMN "id" TYPE bigint' in out
    assert "cannot connect to 127.0.0.1:1/nowhere" in out
    for dsn in tenants.values():
        assert query(dsn, "SELECT to_regclass('mmschema.history')") == [(None,)]
    assert modules_sent(shell) == 0

    # Apply the saved plans, through the module on the host (a task environment), when the
    # user can start this Python from a shell: the rewrite is refused without `allow`, the
    # rest applied.
    on_host = python_reachable(shell)
    saved = playbook("-e", json.dumps({"saved": True, "on_host": on_host}))
    out = saved.stdout
    assert changed_failed(out) == {"t1": (1, 0), "t2": (1, 0), "t3": (0, 1), "down": (0, 1)}, out
    assert "apply refused; allow these hazards with --allow KIND" in out
    assert "down.json: cannot read the saved plan" in out
    assert query(tenants["t1"], "SELECT count(*) FROM accounts") == [(0,)]
    assert modules_sent(shell) == (4 if on_host else 0)

    # Drift through the module running the mmschema command (same condition): t3 still
    # differs (changed, not failed); the others are in sync.
    exe = {"exe": str(BIN / "mmschema")} if on_host else {}
    drift = playbook("-e", json.dumps({"act": "drift", **exe}), "--limit", "t1,t2,t3")
    assert drift.code == 0, drift.output
    assert changed_failed(drift.stdout) == {"t1": (0, 0), "t2": (0, 0), "t3": (1, 0)}
    assert modules_sent(shell) == (7 if on_host else 0)

    # From the file again, rewrite allowed: only t3 changes.
    allowed = playbook("-e", '{"allow": ["rewrite"]}', "--limit", "t1,t2,t3")
    assert allowed.code == 0, allowed.output
    assert changed_failed(allowed.stdout) == {"t1": (0, 0), "t2": (0, 0), "t3": (1, 0)}
    types = "SELECT data_type FROM information_schema.columns WHERE table_name = 'accounts'"
    types += " AND column_name = 'id'"
    assert query(tenants["t3"], types) == [("bigint",)]
    assert modules_sent(shell) == (7 if on_host else 0)
