"""`mmschema import` loses nothing silently: UPDATEs become backfills, the rest is listed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell

ROOT = Path(__file__).resolve().parent.parent
BEFORE = (ROOT / "examples" / "market-maker" / "before.sql").read_text()
MIGRATIONS = ROOT / "tests" / "fixtures" / "seed-migrations"
BASE_SCHEMA = BEFORE.split("-- Sample data")[0]  # the tables and indexes, not the rows


def copy_migrations(shell: Shell) -> None:
    for path in sorted(MIGRATIONS.glob("*.sql")):
        shell.write(f"migrations/{path.name}", path.read_text())


@pytest.mark.one_major
def test_the_seed_update_becomes_a_backfill_that_fills_an_old_database(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("base.sql", BASE_SCHEMA)
    copy_migrations(shell)
    imported = shell.run(
        "import", "base.sql", "migrations", "-o", "schema.yaml", "--dev-database", scratch_dsn
    )
    assert imported.code == 0, imported.output
    assert "001-add-multi-pair-support.sql:15: UPDATE becomes the backfill" in imported.stderr
    columns = yaml.safe_load(shell.path("schema.yaml").read_text())["tables"]["sessions"]["columns"]
    assert columns["pairs"]["backfill"] == "jsonb_build_array(symbol)"
    assert columns["pairs"]["backfill_where"] == "symbol IS NOT NULL AND pair_count = 0"
    assert columns["pair_count"]["backfill"] == "1"

    run_sql(db, BEFORE)  # the database as it was before migration 001, with its rows
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    wrong = query(
        db,
        "SELECT count(*) FROM sessions WHERE pairs <> CASE WHEN symbol IS NULL THEN '[]'::jsonb"
        " ELSE jsonb_build_array(symbol) END OR pair_count <> (symbol IS NOT NULL)::int",
    )
    assert wrong == [(0,)]
    assert query(db, "SELECT count(*) FROM sessions WHERE pairs <> '[]'") == [(20,)]
    again = shell.run("plan", "--detailed-exitcode", "-d", db, "--dev-database", scratch_dsn)
    assert again.code == 0, again.output


LOSSY = {
    "m/001-create.sql": "CREATE TABLE t (id int PRIMARY KEY, a int);\n"
    "INSERT INTO t VALUES (1, 1);\n",
    "m/002-more.sql": "-- code and objects the file does not declare\n"
    "DO $$ BEGIN PERFORM 1; END $$;\n"
    "CREATE AGGREGATE total (int) (sfunc = int4pl, stype = int);\n"
    "UPDATE t SET a = 2;\n"
    "ALTER TABLE t ADD COLUMN b int;\n"
    "UPDATE t SET b = a * 2 WHERE a IS NOT NULL;\n",
}


@pytest.mark.one_major
def test_statements_the_file_cannot_hold_are_listed_and_fail(
    shell: Shell, scratch_dsn: str
) -> None:
    for name, text in LOSSY.items():
        shell.write(name, text)
    refused = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert refused.code == 1, refused.output
    for where in (
        "m/001-create.sql:2: INSERT",
        "m/002-more.sql:2: DO",
        "m/002-more.sql:3: CREATE AGGREGATE",
        "m/002-more.sql:4: UPDATE t SET a = 2",
    ):
        assert where in refused.stderr, refused.stderr
    assert "--ignore-data" in refused.stderr
    assert "m/002-more.sql:6: UPDATE becomes the backfill of public.t.b" in refused.stderr
    assert not shell.path("schema.yaml").exists()
    assert "Traceback" not in refused.output

    kept = shell.run(
        "import", "m", "-o", "schema.yaml", "--ignore-data", "--dev-database", scratch_dsn
    )
    assert kept.code == 0, kept.output
    assert "left out: 4 statements" in kept.stderr
    assert "m/002-more.sql:3: CREATE AGGREGATE" in kept.stderr
    column = yaml.safe_load(shell.path("schema.yaml").read_text())["tables"]["t"]["columns"]["b"]
    assert column == {"type": "integer", "backfill": "a * 2", "backfill_where": "a IS NOT NULL"}


@pytest.mark.one_major
def test_migrations_without_their_base_say_to_pass_it_first(shell: Shell, scratch_dsn: str) -> None:
    copy_migrations(shell)
    outcome = shell.run("import", "migrations", "--dev-database", scratch_dsn)
    assert outcome.code == 1
    assert outcome.stdout == ""
    assert "migrations/001-add-multi-pair-support.sql:10:" in outcome.stderr, outcome.stderr
    assert "pass the base schema first" in outcome.stderr
    assert "Traceback" not in outcome.output
