"""The core commands end to end on a real server: the market-maker example, dump, drift, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from mmschema.embedded import stop_embedded
from tests.clirunner import run_against as mm
from tests.clirunner import run_cli
from tests.conftest import query, run_sql

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "market-maker"
SCHEMA = str(EXAMPLE / "schema.yaml")
SEED_INDEXES = {
    "idx_orders_session_symbol",
    "idx_fills_session_symbol",
    "idx_fills_session_order_symbol",
    "idx_fills_unique_dedup",
    "idx_sessions_pair_count",
    "idx_sessions_pairs_gin",
    "idx_sessions_settlement_discovery",
    "idx_orders_symbol_status",
    "idx_fills_symbol_timestamp",
}


@pytest.fixture
def market(db: str) -> str:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    return db


def test_market_maker_converges_as_the_seed_says(
    market: str, scratch_dsn: str, tmp_path: Path
) -> None:
    applied = mm(["apply", "-f", SCHEMA, "--yes"], market, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "changed=12" in applied.stdout

    columns = query(
        market,
        """SELECT column_name, data_type, is_nullable, column_default
           FROM information_schema.columns
           WHERE table_name = 'sessions' AND column_name IN ('pairs', 'pair_count')
           ORDER BY column_name""",
    )
    assert columns == [
        ("pair_count", "integer", "NO", "0"),
        ("pairs", "jsonb", "NO", "'[]'::jsonb"),
    ]
    indexes = {
        r[0]
        for r in query(
            market,
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('sessions', 'orders', 'fills')",
        )
    }
    assert indexes >= SEED_INDEXES
    wrong_counts = query(
        market,
        "SELECT id FROM sessions WHERE pair_count != COALESCE(jsonb_array_length(pairs), 0)",
    )
    assert wrong_counts == []
    migrated = query(
        market,
        "SELECT count(*) FROM sessions"
        " WHERE symbol IS NOT NULL AND pairs = jsonb_build_array(symbol)",
    )
    with_symbol = query(market, "SELECT count(*) FROM sessions WHERE symbol IS NOT NULL")
    assert migrated == with_symbol and with_symbol[0][0] > 0

    again = mm(["plan", "-f", SCHEMA, "--detailed-exitcode"], market, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr


def test_dump_of_the_converged_example_plans_nothing(
    market: str, scratch_dsn: str, tmp_path: Path
) -> None:
    assert mm(["apply", "-f", SCHEMA, "--yes"], market, scratch_dsn, tmp_path).code == 0
    dumped = tmp_path / "dumped.yaml"
    result = mm(["dump", "-o", str(dumped)], market, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    text = dumped.read_text()
    assert "idx_fills_unique_dedup" in text and "pair_count" in text
    again = mm(["plan", "-f", str(dumped), "--detailed-exitcode"], market, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr


def test_drift_reports_a_dropped_index(market: str, scratch_dsn: str, tmp_path: Path) -> None:
    assert mm(["apply", "-f", SCHEMA, "--yes"], market, scratch_dsn, tmp_path).code == 0
    assert mm(["drift", "-f", SCHEMA], market, scratch_dsn, tmp_path).code == 0
    run_sql(market, "DROP INDEX idx_orders_symbol_status")
    drifted = mm(["drift", "-f", SCHEMA, "--format", "json"], market, scratch_dsn, tmp_path)
    assert drifted.code == 2
    objects = [c["object"] for c in json.loads(drifted.stdout)["changes"]]
    assert objects == ["public.orders.idx_orders_symbol_status"]


def test_plan_json_has_the_spec_shape(market: str, scratch_dsn: str, tmp_path: Path) -> None:
    result = mm(["plan", "-f", SCHEMA, "--format", "json"], market, scratch_dsn, tmp_path)
    plan = json.loads(result.stdout)
    assert {"version", "target", "fingerprint", "changes", "summary"} <= set(plan)
    gin = next(c for c in plan["changes"] if c["object"].endswith("idx_sessions_pairs_gin"))
    assert gin["kind"] == "create_index"
    assert gin["transactional"] is False
    assert gin["lock"] == "SHARE UPDATE EXCLUSIVE"
    assert gin["sql"] == [
        'CREATE INDEX CONCURRENTLY "idx_sessions_pairs_gin" ON "public"."sessions" '
        'USING gin ("pairs")'
    ]


@pytest.mark.one_major
def test_apply_needs_yes_without_a_terminal(market: str, scratch_dsn: str, tmp_path: Path) -> None:
    result = mm(["apply", "-f", SCHEMA], market, scratch_dsn, tmp_path)
    assert result.code == 3
    assert "--yes" in result.stderr
    columns = query(
        market, "SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions'"
    )
    assert ("pairs",) not in columns


@pytest.mark.one_major
def test_apply_asks_on_a_terminal(market: str, scratch_dsn: str, tmp_path: Path) -> None:
    declined = mm(
        ["apply", "-f", SCHEMA], market, scratch_dsn, tmp_path, stdin="no\n", terminal=True
    )
    assert declined.code == 3
    accepted = mm(
        ["apply", "-f", SCHEMA], market, scratch_dsn, tmp_path, stdin="yes\n", terminal=True
    )
    assert accepted.code == 0, accepted.stderr


@pytest.mark.one_major
def test_destructive_change_needs_allow(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, "CREATE TABLE t (id int PRIMARY KEY, old text); INSERT INTO t VALUES (1, 'x')")
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: int}\n"
        "      old: {type: text, state: absent}\n    primary_key: [id]\n"
    )
    refused = mm(["apply", "-f", str(schema), "--yes"], db, scratch_dsn, tmp_path)
    assert refused.code == 3
    assert "destructive" in refused.stderr
    assert query(db, "SELECT old FROM t") == [("x",)]
    allowed = mm(
        ["apply", "-f", str(schema), "--yes", "--allow", "destructive"], db, scratch_dsn, tmp_path
    )
    assert allowed.code == 0, allowed.stderr
    names = query(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 't'")
    assert names == [("id",)]


def test_invalid_file_is_rejected_before_any_database(tmp_path: Path) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: int, nulable: false}\n"
    )
    # The database does not exist: an invalid file must fail before it is tried.
    result = run_cli(
        ["plan", "-f", str(schema), "-d", "postgresql://nobody@127.0.0.1:1/x"], tmp_path
    )
    assert result.code == 1
    assert result.stderr.startswith(f"{schema}:5:")
    assert "nulable" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_expression_points_at_its_declaration(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: int}\n"
        "      n: {type: integer, default: no_such_function()}\n"
    )
    result = mm(["plan", "-f", str(schema)], db, scratch_dsn, tmp_path)
    assert result.code == 1
    assert result.stderr.startswith(f"{schema}:6:")
    assert "no_such_function" in result.stderr


def test_unreachable_server_gives_one_line_without_password(tmp_path: Path) -> None:
    result = run_cli(
        ["plan", "-f", SCHEMA, "-d", "postgresql://trader:s3cr3t-pw@127.0.0.1:1/prod"], tmp_path
    )
    assert result.code == 1
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "127.0.0.1:1/prod" in result.stderr


@pytest.mark.one_major
def test_database_url_from_dotenv(market: str, scratch_dsn: str, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL={market}\n")
    result = run_cli(
        ["plan", "-f", SCHEMA, "--dev-database", scratch_dsn, "--detailed-exitcode"], tmp_path
    )
    assert result.code == 2, result.stderr


@pytest.fixture
def embedded_workdir(pg_tmp_dir: Path) -> Iterator[Path]:
    yield pg_tmp_dir
    stop_embedded()


def test_embedded_default_with_no_database_configured(embedded_workdir: Path) -> None:
    """No DSN anywhere: the embedded PostgreSQL is the target and the scratch server."""
    schema = embedded_workdir / "schema.yaml"
    schema.write_text("version: 1\ntables:\n  notes:\n    columns:\n      id: {type: int4}\n")
    first = run_cli(["apply", "-f", str(schema), "--yes"], embedded_workdir)
    assert first.code == 0, first.stderr
    assert "embedded PostgreSQL 18" in first.stderr
    assert (embedded_workdir / ".mmschema").is_dir()
    again = run_cli(["plan", "-f", str(schema), "--detailed-exitcode"], embedded_workdir)
    assert again.code == 0, again.stdout + again.stderr


def test_scratch_of_another_major_plans_nothing_after_apply(
    market: str, embedded_workdir: Path, pg_server: object
) -> None:
    """Target on the test server, scratch on the embedded 18: no version noise in the diff."""
    applied = run_cli(["apply", "-f", SCHEMA, "-d", market, "--yes"], embedded_workdir)
    assert applied.code == 0, applied.stdout + applied.stderr
    again = run_cli(["plan", "-f", SCHEMA, "-d", market, "--detailed-exitcode"], embedded_workdir)
    assert again.code == 0, again.stdout + again.stderr


def test_dump_of_a_table_with_enum_columns_declares_the_enums(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(
        db,
        "CREATE SCHEMA ledger;"
        "CREATE TYPE ledger.side AS ENUM ('buy', 'sell');"
        "CREATE TYPE order_status AS ENUM ('new', 'open', 'filled');"
        "CREATE TYPE unused AS ENUM ('x');"
        "CREATE TABLE orders (id bigint PRIMARY KEY,"
        " status order_status NOT NULL DEFAULT 'new', side ledger.side, seen order_status[]);",
    )
    dumped = tmp_path / "dumped.yaml"
    result = mm(["dump", "-o", str(dumped)], db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    document = yaml.safe_load(dumped.read_text())
    # every enum of the dumped schemas: the file manages them (--prune drops undeclared ones)
    assert document["enums"] == {
        "ledger.side": {"labels": ["buy", "sell"]},
        "order_status": {"labels": ["new", "open", "filled"]},
        "unused": {"labels": ["x"]},
    }
    again = mm(["plan", "-f", str(dumped), "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr
    # Fed to an empty database, the dump creates the enums before the table.
    run_sql(db, "DROP TABLE orders; DROP TYPE order_status; DROP SCHEMA ledger CASCADE")
    applied = mm(["apply", "-f", str(dumped), "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    again = mm(["plan", "-f", str(dumped), "--detailed-exitcode"], db, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr
