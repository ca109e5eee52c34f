"""`plan --format json` output is valid under the shipped JSON Schema (draft 2020-12)."""

from __future__ import annotations

import json
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mmschema.hazards import HAZARD_KINDS
from mmschema.locks import LockLevel
from tests.clirunner import run_cli
from tests.conftest import run_sql

# CLI and file behaviour: the same on every major.
pytestmark = pytest.mark.one_major

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "market-maker"

HAZARDOUS = """\
version: 1
tables:
  t:
    columns:
      id: {type: integer, nullable: false}
      v:  {type: bigint}
    primary_key: [id]
    indexes:
      idx_t_v: {unique: true, columns: [v]}
"""


def plan_schema() -> dict[str, Any]:
    text = resources.files("mmschema.render").joinpath("plan.schema.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def plan_json(schema_file: Path, db: str, scratch: str, cwd: Path) -> dict[str, Any]:
    result = run_cli(
        ["plan", "--format", "json", "-f", str(schema_file), "-d", db, "--dev-database", scratch],
        cwd,
    )
    assert result.code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def validate(data: dict[str, Any]) -> None:
    schema = plan_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


def test_schema_enums_match_the_code() -> None:
    defs = plan_schema()["$defs"]
    assert set(defs["hazardKind"]["enum"]) == set(HAZARD_KINDS)
    assert set(defs["lockLevel"]["enum"]) == {level.sql_name for level in LockLevel}


def test_market_maker_plan_is_valid(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    data = plan_json(EXAMPLE / "schema.yaml", db, scratch_dsn, tmp_path)
    assert data["changes"]
    validate(data)


def test_plan_with_hazards_is_valid(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(
        db,
        "CREATE TABLE t (id integer PRIMARY KEY, v integer, old text);"
        "INSERT INTO t SELECT g, g % 3 FROM generate_series(1, 30) g",
    )
    path = tmp_path / "schema.yaml"
    path.write_text(HAZARDOUS)
    data = plan_json(path, db, scratch_dsn, tmp_path)
    kinds = {h["kind"] for c in data["changes"] for h in c["hazards"]}
    assert kinds, data
    validate(data)


def test_empty_plan_is_valid(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(HAZARDOUS)
    run_sql(
        db,
        "CREATE TABLE t (id integer PRIMARY KEY, v bigint); CREATE UNIQUE INDEX idx_t_v ON t (v)",
    )
    data = plan_json(path, db, scratch_dsn, tmp_path)
    assert data["changes"] == []
    validate(data)


def test_schema_rejects_a_wrong_plan() -> None:
    bad = {"version": 1, "target": "x", "fingerprint": "ab", "changes": [{"kind": "add_column"}]}
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_ci_examples_parse_and_their_commands_work(
    scratch_dsn: str, pg_tmp_dir: Path, tmp_path: Path
) -> None:
    ci = ROOT / "examples" / "ci"
    workflow = yaml.safe_load((ci / "plan.yml").read_text())
    steps = workflow["jobs"]["plan"]["steps"]
    assert any("mmschema validate" in step.get("run", "") for step in steps)
    assert any("actions/github-script" in step.get("uses", "") for step in steps)
    hooks = yaml.safe_load((ci / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "mmschema-validate"
    config = yaml.safe_load((ci / "pre-commit-config.yaml").read_text())
    assert config["repos"][0]["hooks"][0]["entry"].startswith("mmschema validate")

    # the workflow's commands, in a clone whose origin/main holds the base schema
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "schema.yaml").write_text(HAZARDOUS.replace("bigint", "integer"))
    git(origin, "add", "schema.yaml")
    git(origin, "commit", "-q", "-m", "base")
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    (clone / "schema.yaml").write_text(HAZARDOUS)
    # (in-process, -f is read relative to the test's cwd: give it whole)
    schema_file = str(clone / "schema.yaml")
    assert run_cli(["validate", "-f", schema_file], clone).code == 0
    args = ["plan", "-f", schema_file, "--from", "git:origin/main:schema.yaml"]
    result = run_cli(
        [*args, "--format", "markdown", "--detailed-exitcode", "--dev-database", scratch_dsn],
        clone,
    )
    assert result.code == 2, result.stdout + result.stderr
    assert "alter_column_type" in result.stdout
    as_json = run_cli([*args, "--format", "json", "--dev-database", scratch_dsn], clone)
    validate(json.loads(as_json.stdout))
