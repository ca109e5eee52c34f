"""-i/--inventory: plan, apply and drift on many databases, with --limit and --parallel."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from mmschema.localserver import LocalServer
from tests.clirunner import run_cli
from tests.conftest import query

# CLI and file behaviour: the same on every major.
pytestmark = pytest.mark.one_major

SCHEMA = """\
version: 1
tables:
  accounts:
    columns:
      id: {type: bigint, nullable: false}
      email: {type: text}
    primary_key: [id]
    indexes:
      idx_accounts_email: {columns: [email]}
"""
SECRET = "hunter2-unreachable"


@pytest.fixture
def other_db(pg_server: LocalServer) -> Iterator[str]:
    name = f"t_inventory_other_{secrets.token_hex(3)}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE mmschema_template").format(sql.Identifier(name))
        )
    try:
        yield pg_server.dsn(name)
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schema.yaml").write_text(SCHEMA)
    (tmp_path / "targets.yaml").write_text(
        f"""\
targets:
  eu-1: {{dsn_env: EU1_DATABASE_URL}}
  us-1: {{dsn_env: US1_DATABASE_URL}}
  down: {{dsn: "postgresql://admin:{SECRET}@127.0.0.1:1/nowhere?connect_timeout=2"}}
groups:
  prod: [eu-1, us-1]
"""
    )
    return tmp_path


def inv(args: list[str], cwd: Path, env: dict[str, str], scratch: str) -> tuple[int, str, str]:
    schema = str(cwd / "schema.yaml")
    result = run_cli(
        [*args, "-f", schema, "-i", "targets.yaml", "--dev-database", scratch], cwd, env=env
    )
    return result.code, result.stdout, result.stderr


def test_drift_on_every_target_one_unreachable(
    db: str, other_db: str, scratch_dsn: str, project: Path
) -> None:
    env = {"EU1_DATABASE_URL": db, "US1_DATABASE_URL": other_db}
    code, out, err = inv(["drift", "--parallel", "3"], project, env, scratch_dsn)
    assert code == 1, out + err
    assert SECRET not in out + err
    headers = [line for line in out.splitlines() if line.startswith("=== ")]
    assert len(headers) == 2 and "eu-1" in headers[0] and "us-1" in headers[0], headers
    assert headers[1].startswith("=== down ")  # eu-1 and us-1 drift alike: one plan, shown once
    summary = out[out.index("drift: 3 targets") :]
    rows = {line.split()[1]: line for line in summary.splitlines() if line.startswith("│")}
    assert "drift" in rows["eu-1"] and " 2 " in rows["eu-1"]
    assert "drift" in rows["us-1"] and " 2 " in rows["us-1"]
    assert "error" in rows["down"] and " 1 " in rows["down"]
    assert "127.0.0.1:1/nowhere" in rows["down"]

    code, out, err = inv(["drift", "--format", "json"], project, env, scratch_dsn)
    assert code == 1
    data = json.loads(out)
    outcomes = {t["name"]: (t["exit_code"], t["outcome"]) for t in data["targets"]}
    assert outcomes == {"eu-1": (2, "drift"), "us-1": (2, "drift"), "down": (1, "error")}
    assert data["targets"][0]["result"]["changes"]
    assert "cannot connect" in data["targets"][2]["error"]
    assert SECRET not in out + err


def test_limit_selects_and_apply_converges(
    db: str, other_db: str, scratch_dsn: str, project: Path
) -> None:
    env = {"EU1_DATABASE_URL": db, "US1_DATABASE_URL": other_db}
    code, out, err = inv(
        ["plan", "--limit", "eu-1", "--detailed-exitcode"], project, env, scratch_dsn
    )
    assert code == 2, out + err
    assert "=== eu-1 " in out and "=== us-1 " not in out and "down" not in out

    code, out, err = inv(
        ["plan", "--limit", "prod", "--out", "plan.json"], project, env, scratch_dsn
    )
    assert code == 0, out + err
    assert json.loads((project / "plan.eu-1.json").read_text())["changes"]
    assert json.loads((project / "plan.us-1.json").read_text())["changes"]

    code, out, err = inv(
        ["apply", "--limit", "prod", "--yes", "--parallel", "2"], project, env, scratch_dsn
    )
    assert code == 0, out + err
    assert "converged" in out
    for dsn in (db, other_db):
        assert query(dsn, "SELECT indexname FROM pg_indexes WHERE tablename = 'accounts'") != []
        assert query(dsn, "SELECT outcome FROM mmschema.history") == [("succeeded",)]

    code, out, err = inv(["drift", "--limit", "eu-1,us-1"], project, env, scratch_dsn)
    assert code == 0, out + err
    assert "in sync" in out

    code, out, err = inv(["drift", "--limit", "nope"], project, env, scratch_dsn)
    assert code == 1 and "no such target or group" in err


def test_missing_variable_fails_only_that_target(db: str, scratch_dsn: str, project: Path) -> None:
    code, out, err = inv(
        ["drift", "--limit", "prod", "--format", "prometheus"],
        project,
        {"EU1_DATABASE_URL": db},
        scratch_dsn,
    )
    assert code == 1
    assert "mmschema_drift{" in out and out.count("# TYPE mmschema_drift gauge") == 1
    assert "US1_DATABASE_URL is not set" in err
    assert "postgresql://" not in out + err


def test_apply_needs_yes_and_inventory_errors_have_positions(
    scratch_dsn: str, project: Path
) -> None:
    code, _, err = inv(["apply"], project, {}, scratch_dsn)
    assert code == 3 and "--yes" in err
    (project / "targets.yaml").write_text(
        "targets:\n  a: {dsn_env: A, color: red}\n  b: {}\ngroups:\n  g: [a, zz]\nextra: 1\n"
    )
    code, _, err = inv(["drift"], project, {}, scratch_dsn)
    assert code == 1
    assert err.startswith("targets.yaml:")
    assert "targets.yaml:2:19: target 'a': unknown key 'color'" in err
    assert "targets.yaml:3:6: target 'b' needs exactly one of dsn_env and dsn" in err
    assert "targets.yaml:5:10: group 'g': no target named 'zz'" in err
    assert "targets.yaml:6:1: unknown key 'extra'" in err
