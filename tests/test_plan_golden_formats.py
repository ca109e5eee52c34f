"""The market-maker example's plan in all four formats, against golden files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mmschema.localserver import LocalServer
from tests.clirunner import run_cli
from tests.conftest import run_sql

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "market-maker"
GOLDEN = Path(__file__).parent / "golden" / "market-maker"
UPDATE = os.environ.get("MMSCHEMA_UPDATE_GOLDEN") == "1"
SUFFIXES = {"text": "txt", "json": "json", "sql": "sql", "markdown": "md"}


def stable(text: str, target: str) -> str:
    """The output without what differs per run: the target's address and the fingerprint."""
    text = text.replace(target, "TARGET")
    return re.sub(r'(fingerprint"?:? "?)[0-9a-f]{16}', r"\1FINGERPRINT", text)


@pytest.mark.parametrize("fmt", sorted(SUFFIXES))
def test_market_maker_plan_matches_the_golden_file(
    fmt: str, db: str, scratch_dsn: str, pg_server: LocalServer, tmp_path: Path
) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    args = ["plan", "-f", str(EXAMPLE / "schema.yaml"), "--format", fmt]
    result = run_cli([*args, "-d", db, "--dev-database", scratch_dsn], tmp_path)
    assert result.code == 0, result.stderr
    target = f"127.0.0.1:{db.rsplit(':', 1)[1].split('/', 1)[0]}/{db.rsplit('/', 1)[1]}"
    output = stable(result.stdout, target)
    general = GOLDEN / f"plan.{SUFFIXES[fmt]}"
    specific = GOLDEN / f"plan.pg{pg_server.major}.{SUFFIXES[fmt]}"
    if UPDATE:
        if not general.exists() or pg_server.major == 17:
            general.write_text(output)
        elif general.read_text() != output:
            specific.write_text(output)
        return
    golden = specific if specific.exists() else general
    assert output == golden.read_text()
