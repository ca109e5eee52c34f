"""The Ansible collection: `ansible-galaxy collection install`, then real `ansible-playbook`
runs of the `mmschema` module on four hosts (connection: local): check mode with --diff,
hazards gated by `allow`, a saved plan applied, drift, an unreachable host failed with
mmschema's message, and no password in any output."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from mmschema.localserver import LocalServer
from tests.conftest import ROOT, query, run_sql

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
      mmschema.mmschema.mmschema:
        database: "{{ dsn }}"
        dev_database: "{{ scratch }}"
        chdir: "{{ project }}"
        file: "{{ omit if saved | default(false) else 'schema.yaml' }}"
        plan: "{{ inventory_hostname ~ '.json' if saved | default(false) else omit }}"
        out: "{{ omit if saved | default(false) else inventory_hostname ~ '.json' }}"
        allow: "{{ allow | default([]) }}"
        action: "{{ act | default('apply') }}"
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


class Ansible:
    """ansible-playbook in a fresh directory, with its home, temp and collections there."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        self.env.update(
            LC_ALL="C.UTF-8",
            PYTHONWARNINGS="ignore",
            ANSIBLE_HOME=str(base / "home"),
            ANSIBLE_LOCAL_TEMP=str(base / "tmp"),
            ANSIBLE_REMOTE_TEMP=str(base / "tmp"),
            ANSIBLE_COLLECTIONS_PATH=str(base / "collections"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_FORKS="4",
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / args[0]), *args[1:]], cwd=self.base, env=self.env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip


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
    pg_server: LocalServer, tenants: dict[str, str], scratch_dsn: str
) -> None:
    base = Path(tempfile.mkdtemp(prefix="mmschema-ansible-test-"))
    ansible = Ansible(base)
    installed = ansible.run(
        "ansible-galaxy", "collection", "install", str(COLLECTION), "-p", str(base / "collections")
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    project = base / "project"
    project.mkdir()
    (project / "schema.yaml").write_text(SCHEMA)
    hosts = {name: {"dsn": with_password(dsn)} for name, dsn in tenants.items()}
    hosts["down"] = {"dsn": f"postgresql://admin:{SECRET}@127.0.0.1:1/nowhere?connect_timeout=2"}
    common = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "scratch": scratch_dsn,
        "project": str(project),
    }
    inventory = {"tenants": {"hosts": hosts, "vars": common}}
    (base / "hosts.yaml").write_text(json.dumps(inventory))
    (base / "site.yaml").write_text(PLAYBOOK)

    def playbook(*extra: str) -> subprocess.CompletedProcess[str]:
        done = ansible.run("ansible-playbook", "-i", "hosts.yaml", "site.yaml", *extra)
        assert SECRET not in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        return done

    # Check mode with --diff: the plans, each one's SQL, nothing written; `down` fails.
    checked = playbook("--check", "--diff")
    out = checked.stdout
    assert checked.returncode == 2, out + checked.stderr
    assert changed_failed(out) == {"t1": (1, 0), "t2": (1, 0), "t3": (1, 0), "down": (0, 1)}
    assert out.count('CREATE TABLE "public"."accounts"') == 2, out
    assert 'ALTER TABLE "public"."accounts" ALTER COLUMN "id" TYPE bigint' in out
    assert "cannot connect to 127.0.0.1:1/nowhere" in out
    for dsn in tenants.values():
        assert query(dsn, "SELECT to_regclass('mmschema.history')") == [(None,)]

    # Apply the saved plans: the rewrite is refused without `allow`, the rest applied.
    saved = playbook("-e", '{"saved": true}')
    out = saved.stdout
    assert changed_failed(out) == {"t1": (1, 0), "t2": (1, 0), "t3": (0, 1), "down": (0, 1)}
    assert "apply refused; allow these hazards with --allow KIND" in out
    assert "down.json: cannot read the saved plan" in out
    assert query(tenants["t1"], "SELECT count(*) FROM accounts") == [(0,)]

    # Drift: t3 still differs (changed, not failed); the others are in sync.
    drift = playbook("-e", '{"act": "drift"}', "--limit", "t1,t2,t3")
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert changed_failed(drift.stdout) == {"t1": (0, 0), "t2": (0, 0), "t3": (1, 0)}

    # From the file again, rewrite allowed: only t3 changes.
    allowed = playbook("-e", '{"allow": ["rewrite"]}', "--limit", "t1,t2,t3")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert changed_failed(allowed.stdout) == {"t1": (0, 0), "t2": (0, 0), "t3": (1, 0)}
    types = "SELECT data_type FROM information_schema.columns WHERE table_name = 'accounts'"
    types += " AND column_name = 'id'"
    assert query(tenants["t3"], types) == [("bigint",)]
    shutil.rmtree(base, ignore_errors=True)
