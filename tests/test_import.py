"""`mmschema import`: SQL files and migration folders become the schema.yaml they leave."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.clirunner import run_cli
from tests.conftest import query, run_sql

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "market-maker"
MIGRATIONS = ROOT / "tests" / "fixtures" / "seed-migrations"


def leftover_import_databases(scratch: str) -> list[tuple[object, ...]]:
    return query(scratch, "SELECT datname FROM pg_database WHERE datname LIKE 'mmschema_import_%'")


def test_seed_migrations_import_to_a_file_that_plans_nothing(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    applied = run_cli(
        [
            "apply",
            "--yes",
            "-f",
            str(EXAMPLE / "schema.yaml"),
            "-d",
            db,
            "--dev-database",
            scratch_dsn,
        ],
        tmp_path,
    )
    assert applied.code == 0, applied.stdout + applied.stderr

    imported = run_cli(
        [
            "import",
            str(EXAMPLE / "before.sql"),
            str(MIGRATIONS),
            "--ignore-data",  # before.sql's sample rows
            "-o",
            "schema.yaml",
            "--dev-database",
            scratch_dsn,
        ],
        tmp_path,
    )
    assert imported.code == 0, imported.stderr
    text = (tmp_path / "schema.yaml").read_text()
    assert "idx_fills_unique_dedup" in text and "pair_count" in text

    planned = run_cli(
        [
            "plan",
            "-f",
            str(tmp_path / "schema.yaml"),
            "--detailed-exitcode",
            "--format",
            "json",
            "-d",
            db,
            "--dev-database",
            scratch_dsn,
        ],
        tmp_path,
    )
    assert planned.code == 0, planned.stdout + planned.stderr
    assert leftover_import_databases(scratch_dsn) == []


def test_import_writes_to_stdout_and_keeps_psql_meta_commands_out(
    scratch_dsn: str, tmp_path: Path
) -> None:
    script = tmp_path / "one.sql"
    script.write_text(
        "\\set ON_ERROR_STOP on\n\\echo creating\n"
        "CREATE SCHEMA ledger;\n"
        "CREATE TABLE ledger.entries (id bigint PRIMARY KEY, amount numeric NOT NULL);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS entries_amount ON ledger.entries (amount);\n"
    )
    result = run_cli(["import", "one.sql", "--dev-database", scratch_dsn], tmp_path)
    assert result.code == 0, result.stderr
    assert "ledger.entries:" in result.stdout
    assert "entries_amount" in result.stdout


def test_a_failing_script_names_its_file_and_line(scratch_dsn: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001-create.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    (folder / "002-broken.sql").write_text(
        "-- adds a column\n\\echo go\n\nALTER TABLE t ADD COLUMN a int;\n"
        "ALTER TABLE t\n    ADD COLUMN b nosuchtype;\n"
    )
    (folder / "003-never.sql").write_text("CREATE TABLE never (id int);\n")
    result = run_cli(["import", "migrations", "--dev-database", scratch_dsn], tmp_path)
    assert result.code == 1
    assert "migrations/002-broken.sql:5: " in result.stderr, result.stderr
    assert 'type "nosuchtype" does not exist' in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert leftover_import_databases(scratch_dsn) == []


def test_a_syntax_error_names_its_file_and_line(scratch_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text("CREATE TABLE t (id int);\n\nCREATE TABEL u (id int);\n")
    result = run_cli(["import", "bad.sql", "--dev-database", scratch_dsn], tmp_path)
    assert result.code == 1
    assert result.stderr.startswith("mmschema: bad.sql:3: syntax error"), result.stderr


def test_missing_source_is_one_line(scratch_dsn: str, tmp_path: Path) -> None:
    result = run_cli(["import", "nope.sql", "--dev-database", scratch_dsn], tmp_path)
    assert result.code == 1
    assert result.stderr == "mmschema: nope.sql: no such file or directory\n"


def test_the_temporary_database_is_dropped(scratch_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE TABLE a (id int);\n")
    assert run_cli(["import", "a.sql", "--dev-database", scratch_dsn], tmp_path).code == 0
    with psycopg.connect(scratch_dsn) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'mmschema_import_%'"
        ).fetchone() == (0,)


def test_statements_in_no_particular_order_import(scratch_dsn: str, tmp_path: Path) -> None:
    """A schema file that references a table before creating it (as some tools write them)."""
    script = tmp_path / "desired.sql"
    script.write_text(
        "CREATE TABLE foos (id int PRIMARY KEY, bar_id int REFERENCES bars (id));\n"
        "CREATE INDEX foos_bar ON foos (bar_id);\n"
        "CREATE TABLE bars (id int PRIMARY KEY);\n"
    )
    out = tmp_path / "schema.yaml"
    result = run_cli(
        ["import", str(script), "-o", str(out), "--dev-database", scratch_dsn], tmp_path
    )
    assert result.code == 0, result.stderr
    text = out.read_text()
    assert "foos_bar" in text and "bars" in text and "foos_bar_id_fkey" in text
