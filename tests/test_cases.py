"""Case folders as data: load before.sql, plan (golden), apply, and a second plan is empty."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mmschema.localserver import LocalServer
from tests.clirunner import run_cli
from tests.conftest import run_sql

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "schema.yaml").exists())
UPDATE_GOLDEN = os.environ.get("MMSCHEMA_UPDATE_GOLDEN") == "1"
ALLOW_ALL = "destructive,rewrite,blocking,long_running"


def golden_view(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan without what differs per run (target database name, fingerprint)."""
    return {
        "changes": [
            {k: c[k] for k in ("kind", "object", "sql", "lock", "transactional", "hazards")}
            for c in plan["changes"]
        ],
        "unmanaged": plan["unmanaged"],
    }


def extra_args(case: Path) -> list[str]:
    """A `prune` file in a case runs its plans and apply with --prune (as the referee does)."""
    return ["--prune"] if (case / "prune").exists() else []


def plan_json(case: Path, db: str, scratch: str, cwd: Path) -> dict[str, Any]:
    result = run_cli(
        [
            "plan",
            "-f",
            str(case / "schema.yaml"),
            "-d",
            db,
            "--dev-database",
            scratch,
            "--format",
            "json",
            *extra_args(case),
        ],
        cwd,
    )
    assert result.code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def check_golden(case: Path, major: int, view: dict[str, Any]) -> None:
    specific = case / f"plan.pg{major}.json"
    general = case / "plan.json"
    golden = specific if specific.exists() else general
    text = json.dumps(view, indent=2) + "\n"
    if UPDATE_GOLDEN:
        if not general.exists() or major == 17:
            general.write_text(text)
            # Majors updated before 17 compared with the old general file.
            for other in case.glob("plan.pg*.json"):
                if other.read_text() == text:
                    other.unlink()
        elif general.read_text() != text:
            specific.write_text(text)
        else:
            specific.unlink(missing_ok=True)
        return
    assert golden.exists(), f"no golden plan in {case}; run with MMSCHEMA_UPDATE_GOLDEN=1"
    assert json.loads(golden.read_text()) == view


@pytest.mark.parametrize("name", CASES)
def test_case_converges(
    name: str,
    db: str,
    scratch_dsn: str,
    pg_server: LocalServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    pg_major = pg_server.major
    case = CASES_DIR / name
    known = case / "known-failure"
    if known.exists():
        # A documented gap; strict, so the day it converges the marker must go.
        reason = known.read_text().strip()
        request.node.add_marker(pytest.mark.xfail(reason=reason, strict=True))
    min_version = case / "min-version"
    if min_version.exists() and pg_major < int(min_version.read_text().strip()):
        pytest.skip(f"needs PostgreSQL {min_version.read_text().strip()}")
    run_sql(db, (case / "before.sql").read_text())

    first = plan_json(case, db, scratch_dsn, tmp_path)
    check_golden(case, pg_major, golden_view(first))
    if (case / "expect-empty").exists():
        assert first["changes"] == []
    if (case / "expect-unmanaged").exists():
        expected = (case / "expect-unmanaged").read_text().split()
        assert sorted(u.rsplit(".", 1)[1] for u in first["unmanaged"]) == sorted(expected)

    applied = run_cli(
        [
            "apply",
            "-f",
            str(case / "schema.yaml"),
            "-d",
            db,
            "--dev-database",
            scratch_dsn,
            "--yes",
            "--allow",
            ALLOW_ALL,
            *extra_args(case),
        ],
        tmp_path,
    )
    assert applied.code == 0, applied.stdout + applied.stderr

    second = plan_json(case, db, scratch_dsn, tmp_path)
    assert second["changes"] == [], "a second plan must be empty"
