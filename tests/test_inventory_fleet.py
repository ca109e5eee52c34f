"""`-i` at fleet size, run as a user does: targets grouped by plan fingerprint for drift too,
a bounded --parallel, --target-timeout for a target that never answers, JSON and Prometheus
per target; an unreachable or hanging target never stops the others."""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from mmschema.localserver import LocalServer
from tests.conftest import run_sql
from tests.outside import Shell

SCHEMA = """\
version: 1
tables:
  accounts:
    columns:
      id:    {type: bigint, nullable: false}
      email: {type: text}
    primary_key: [id]
    indexes:
      idx_accounts_email: {columns: [email]}
"""
SECRET = "pw-of-the-fleet"
IN_SYNC = ("a1", "a2", "a3", "a4")
DRIFTED = ("b1", "b2")


@pytest.fixture
def fleet(pg_server: LocalServer) -> Iterator[dict[str, str]]:
    """Six databases: four in sync with SCHEMA, two without its index."""
    names = {t: f"t_fleet_{t}_{secrets.token_hex(3)}" for t in (*IN_SYNC, *DRIFTED)}
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        for name in names.values():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsns = {t: pg_server.dsn(n) for t, n in names.items()}
    for target, dsn in dsns.items():
        run_sql(dsn, "CREATE TABLE accounts (id bigint PRIMARY KEY, email text)")
        if target in IN_SYNC:
            run_sql(dsn, "CREATE INDEX idx_accounts_email ON accounts (email)")
    try:
        yield dsns
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            for name in names.values():
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def project(shell: Shell, dsns: dict[str, str], silent_port: int, hung: int = 1) -> None:
    shell.write("schema.yaml", SCHEMA)
    lines = ["targets:", *(f'  {t}: {{dsn: "{d}"}}' for t, d in dsns.items())]
    lines.append(f'  down: {{dsn: "postgresql://admin:{SECRET}@127.0.0.1:1/nowhere"}}')
    for i in range(hung):
        dsn = f"postgresql://admin:{SECRET}@127.0.0.1:{silent_port}/hung"
        lines.append(f'  hung{i}: {{dsn: "{dsn}"}}')
    shell.write("targets.yaml", "\n".join(lines) + "\n")


@pytest.mark.one_major
def test_fleet_drift_groups_times_out_and_reports_per_target(
    shell: Shell, fleet: dict[str, str], silent_port: int, scratch_dsn: str
) -> None:
    project(shell, fleet, silent_port)
    base = ("-i", "targets.yaml", "--dev-database", scratch_dsn, "--target-timeout", "3")
    started = time.monotonic()
    text = shell.run("drift", *base, "--parallel", "4", timeout=60)
    assert time.monotonic() - started < 50, text.output  # the hung target did not hold it up
    assert text.code == 1, text.output
    assert SECRET not in text.output and "Traceback" not in text.output
    out = text.stdout
    headers = [line for line in out.splitlines() if line.startswith("=== ")]
    assert len(headers) == 4, headers  # the four alike, the two alike, down, hung0
    assert headers[0].startswith("=== a1 (") and "one plan for 4 targets" in headers[0]
    assert "b1" in headers[1] and "b2" in headers[1] and "one plan for 2 targets" in headers[1]
    assert "[a1, a2, a3, a4] Last apply: none recorded" in out  # said once for the group
    assert out.count("CREATE INDEX CONCURRENTLY") == 1
    assert "cannot connect to 127.0.0.1:1/nowhere" in out
    assert "timed out after 3 s" in out
    assert "drift: 2 distinct plans for 8 targets" in out

    as_json = shell.run("drift", *base, "--parallel", "4", "--format", "json", timeout=60)
    document = json.loads(as_json.stdout)
    plans = {tuple(p["targets"]): (p["outcome"], p["changes"]) for p in document["plans"]}
    assert plans == {IN_SYNC: ("in sync", 0), DRIFTED: ("drift", 1)}
    targets = {t["name"]: t for t in document["targets"]}
    assert targets["hung0"]["timed_out"] is True and targets["hung0"]["exit_code"] == 1
    assert targets["a1"]["timed_out"] is False and targets["a1"]["seconds"] > 0
    assert targets["down"]["outcome"] == "error"

    metrics = shell.run("plan", *base, "--parallel", "4", "--format", "prometheus", timeout=60)
    assert metrics.code == 1 and SECRET not in metrics.output
    samples = dict(line.rsplit(" ", 1) for line in metrics.stdout.splitlines() if line[:1] != "#")
    labels = 'name="{}",target="{}",command="plan"'
    hung = labels.format("hung0", f"127.0.0.1:{silent_port}/hung")
    assert samples[f"mmschema_target_up{{{hung}}}"] == "0"
    b1 = labels.format("b1", fleet["b1"].split("@", 1)[1])
    assert samples[f"mmschema_target_exit_code{{{b1}}}"] == "0"
    assert samples[f"mmschema_target_changes{{{b1}}}"] == "1"
    assert metrics.stdout.count("# TYPE mmschema_target_seconds gauge") == 1

    alone = shell.run("plan", "-d", fleet["a1"], "--format", "prometheus")
    assert alone.code == 1 and "--format prometheus: plan gives it with -i only" in alone.stderr


@pytest.mark.one_major
def test_parallel_is_bounded(
    shell: Shell, fleet: dict[str, str], silent_port: int, scratch_dsn: str
) -> None:
    project(shell, {"a1": fleet["a1"]}, silent_port, hung=2)
    base = ("drift", "-i", "targets.yaml", "--dev-database", scratch_dsn, "--target-timeout", "2")
    started = time.monotonic()
    serial = shell.run(*base, "--parallel", "1", timeout=60)
    assert time.monotonic() - started >= 4, serial.output  # two hung targets, one at a time
    assert serial.code == 1 and serial.stdout.count("mmschema: timed out after 2 s") == 2
    assert "in sync" in serial.stdout
    for bad in ("0", "65"):
        refused = shell.run(*base, "--parallel", bad)
        assert refused.code == 1 and "--parallel must be between 1 and 64" in refused.stderr
