"""`plan -i` run as a user does: pending changes reported whatever the exit-code flag, and
targets with the same plan shown once, together."""

from __future__ import annotations

import json
import secrets
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


@pytest.fixture
def databases(pg_server: LocalServer) -> Iterator[dict[str, str]]:
    """Four databases: two alike (two changes pending), one with three, one in sync."""
    names = {
        t: f"t_inv_{t.replace('-', '_')}_{secrets.token_hex(3)}"
        for t in ("eu-1", "us-1", "ap-1", "dev")
    }
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        for name in names.values():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsns = {t: pg_server.dsn(n) for t, n in names.items()}
    for target in ("eu-1", "us-1"):
        run_sql(dsns[target], "CREATE TABLE accounts (id bigint PRIMARY KEY)")
    run_sql(dsns["ap-1"], "CREATE TABLE accounts (id integer PRIMARY KEY)")  # and a type change
    run_sql(
        dsns["dev"],
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);"
        "CREATE INDEX idx_accounts_email ON accounts (email)",
    )
    try:
        yield dsns
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            for name in names.values():
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def project(shell: Shell, dsns: dict[str, str]) -> None:
    shell.write("schema.yaml", SCHEMA)
    lines = ["targets:", *(f'  {t}: {{dsn: "{d}"}}' for t, d in dsns.items())]
    shell.write("targets.yaml", "\n".join(lines) + "\n")


def summary_rows(text: str) -> dict[str, str]:
    summary = text[text.index("plan: 4 targets") :]
    return {line.split()[1]: line for line in summary.splitlines() if line.startswith("│")}


@pytest.mark.one_major
def test_inventory_plan_reports_pending_changes_without_the_exit_code_flag(
    shell: Shell, databases: dict[str, str], scratch_dsn: str
) -> None:
    project(shell, databases)
    outcome = shell.run("plan", "-i", "targets.yaml", "--dev-database", scratch_dsn)
    assert outcome.code == 0, outcome.output  # no --detailed-exitcode: 0 with changes
    rows = summary_rows(outcome.stdout)
    assert "changes pending" in rows["eu-1"] and "2 changes" in rows["eu-1"]
    assert "changes pending" in rows["us-1"]
    assert "changes pending" in rows["ap-1"] and "3 changes" in rows["ap-1"]
    assert "no changes" in rows["dev"]

    flagged = shell.run(
        "plan", "-i", "targets.yaml", "--dev-database", scratch_dsn, "--detailed-exitcode"
    )
    assert flagged.code == 2, flagged.output

    as_json = shell.run(
        "plan", "-i", "targets.yaml", "--dev-database", scratch_dsn, "--format", "json"
    )
    assert as_json.code == 0, as_json.output
    document = json.loads(as_json.stdout)
    found = {t["name"]: (t["outcome"], t["changes"]) for t in document["targets"]}
    assert found == {
        "eu-1": ("changes pending", 2),
        "us-1": ("changes pending", 2),
        "ap-1": ("changes pending", 3),
        "dev": ("no changes", 0),
    }


@pytest.mark.one_major
def test_inventory_plan_shows_one_plan_per_group_of_identical_plans(
    shell: Shell, databases: dict[str, str], scratch_dsn: str
) -> None:
    project(shell, databases)
    outcome = shell.run("plan", "-i", "targets.yaml", "--dev-database", scratch_dsn)
    assert outcome.code == 0, outcome.output
    text = outcome.stdout
    # eu-1 and us-1 plan the same: one section names both, and their plan appears once.
    headers = [line for line in text.splitlines() if line.startswith("=== ")]
    assert len(headers) == 3, headers
    both = next(h for h in headers if "eu-1" in h)
    assert "us-1" in both and "2 targets" in both
    assert text.count('ALTER TABLE "public"."accounts" ADD COLUMN "email" text') == 2  # eu+us, ap

    document = json.loads(
        shell.run(
            "plan", "-i", "targets.yaml", "--dev-database", scratch_dsn, "--format", "json"
        ).stdout
    )
    groups = [sorted(p["targets"]) for p in document["plans"]]
    assert sorted(groups) == [["ap-1"], ["dev"], ["eu-1", "us-1"]]
    alike = next(p for p in document["plans"] if "eu-1" in p["targets"])
    assert alike["fingerprint"] and alike["plan"]["summary"]["changes"] == 2


@pytest.mark.one_major
def test_inventory_applies_saved_plans_without_the_schema_file(
    shell: Shell, databases: dict[str, str], scratch_dsn: str
) -> None:
    project(shell, databases)
    made = shell.run("plan", "-i", "targets.yaml", "--dev-database", scratch_dsn, "--out", "p.json")
    assert made.code == 0, made.output
    shell.path("schema.yaml").unlink()
    applied = shell.run(
        "apply", "p.json", "-i", "targets.yaml", "--dev-database", scratch_dsn,
        "--yes", "--allow", "rewrite",
    )  # fmt: skip
    assert applied.code == 0, applied.output
    assert "converged" in applied.stdout
