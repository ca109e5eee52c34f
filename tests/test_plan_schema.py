"""`plan --format json` output is valid under the shipped JSON Schema (draft 2020-12)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mmschema.hazards import HAZARD_KINDS
from mmschema.locks import LockLevel
from tests.clirunner import run_cli
from tests.conftest import run_sql

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
