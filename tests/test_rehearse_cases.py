"""Every change case, rehearsed: no statement takes a stronger lock than the plan says."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmschema.localserver import LocalServer
from tests.clirunner import run_cli
from tests.conftest import run_sql
from tests.test_cases import CASES, CASES_DIR, extra_args


@pytest.mark.parametrize(
    "name", [c for c in CASES if not (CASES_DIR / c / "known-failure").exists()]
)
def test_rehearsal_measures_no_lock_stronger_than_predicted(
    name: str, db: str, scratch_dsn: str, pg_server: LocalServer, tmp_path: Path
) -> None:
    case = CASES_DIR / name
    min_version = case / "min-version"
    if min_version.exists() and pg_server.major < int(min_version.read_text().strip()):
        pytest.skip(f"needs PostgreSQL {min_version.read_text().strip()}")
    if (case / "not-rehearsed").exists():  # a limit of the rehearsal, said in the file
        pytest.skip((case / "not-rehearsed").read_text().strip())
    run_sql(db, (case / "before.sql").read_text())
    args = ["plan", "-f", str(case / "schema.yaml"), "--rehearse", *extra_args(case)]
    result = run_cli([*args, "-d", db, "--dev-database", scratch_dsn], tmp_path)
    assert result.code == 0, result.stdout + result.stderr
