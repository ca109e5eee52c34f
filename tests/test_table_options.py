"""Table options (UNLOGGED, row level security, replica identity): dumped, and left alone
where the file does not give them."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.clirunner import plan_document, run_against
from tests.conftest import query, run_sql

LIVE = """
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v text);
ALTER TABLE cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE cache REPLICA IDENTITY FULL;
"""

BARE = """
version: 1
tables:
  cache:
    columns:
      k: {type: text, nullable: false}
      v: {type: text}
    primary_key: [k]
"""

OPTIONS = "SELECT relpersistence::text, relrowsecurity, relreplident::text FROM pg_class "
OPTIONS += "WHERE relname = 'cache'"


def test_undeclared_options_are_unmanaged_until_prune(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """A file that does not mention row level security must not switch it off."""
    run_sql(db, LIVE)
    path = tmp_path / "schema.yaml"
    path.write_text(BARE)
    planned = plan_document(path, db, scratch_dsn, tmp_path)
    assert planned["changes"] == []
    assert sorted(planned["unmanaged"]) == [
        "replica identity public.cache (full)",
        "row level security public.cache (on)",
        "unlogged public.cache (true)",
    ]
    pruned = run_against(
        ["apply", "-f", str(path), "--yes", "--prune", "--allow", "rewrite"],
        db,
        scratch_dsn,
        tmp_path,
    )
    assert pruned.code == 0, pruned.stdout + pruned.stderr
    assert query(db, OPTIONS) == [("p", False, "d")]


def test_dump_declares_the_options_and_plans_nothing(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, LIVE)
    dumped = run_against(["dump"], db, scratch_dsn, tmp_path)
    table = yaml.safe_load(dumped.stdout)["tables"]["cache"]
    assert table["unlogged"] is True
    assert table["row_level_security"] is True
    assert table["replica_identity"] == "full"
    path = tmp_path / "schema.yaml"
    path.write_text(dumped.stdout)
    again = run_against(["plan", "-f", str(path), "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr
    run_sql(db, "DROP TABLE cache")
    applied = run_against(["apply", "-f", str(path), "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, OPTIONS) == [("u", True, "f")]
