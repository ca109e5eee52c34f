"""Data pre-flight: may_fail hazards count the rows a change would reject; apply refuses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mmschema import preflight
from mmschema.localserver import LocalServer
from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "market-maker"

# Three fills copied as they are (3 duplicate groups), and one copied twice with a NULL
# symbol: rows with a NULL key never collide under a unique index with NULLS DISTINCT.
DUPLICATE_FILLS = """
INSERT INTO fills (sessionid, orderid, symbol, side, "timestamp", price, size, amount,
                   fee, fee_currency)
SELECT sessionid, orderid, symbol, side, "timestamp", price, size, amount, fee, fee_currency
FROM fills WHERE id <= 3;
UPDATE fills SET symbol = NULL WHERE id = 4;
INSERT INTO fills (sessionid, orderid, symbol, side, "timestamp", price, size, amount,
                   fee, fee_currency)
SELECT sessionid, orderid, symbol, side, "timestamp", price, size, amount, fee, fee_currency
FROM fills WHERE id = 4;
"""


def cli(args: list[str], schema: Path, db: str, scratch: str, cwd: Path) -> Result:
    return run_cli([*args, "-f", str(schema), "-d", db, "--dev-database", scratch], cwd)


def plan_json(schema: Path, db: str, scratch: str, cwd: Path) -> dict[str, Any]:
    result = cli(["plan", "--format", "json"], schema, db, scratch, cwd)
    assert result.code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def hazards_of(plan: dict[str, Any], obj: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = next(c["hazards"] for c in plan["changes"] if c["object"] == obj)
    return found


def write_schema(tmp: Path, text: str) -> Path:
    path = tmp / "schema.yaml"
    path.write_text(text)
    return path


def test_duplicate_fills_make_apply_refuse_until_removed(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, (EXAMPLE / "before.sql").read_text())
    run_sql(db, DUPLICATE_FILLS)
    schema = EXAMPLE / "schema.yaml"

    plan = plan_json(schema, db, scratch_dsn, tmp_path)
    hazards = hazards_of(plan, "public.fills.idx_fills_unique_dedup")
    assert [h["kind"] for h in hazards] == ["may_fail"]
    detail = hazards[0]["detail"]
    assert detail.startswith("3 duplicate groups")
    listing = detail.split("list them with: ", 1)[1]
    assert "COALESCE(size, amount)" in listing
    assert len(query(db, listing)) == 3
    assert plan["summary"]["hazards"] == {"may_fail": 1}

    text = cli(["plan"], schema, db, scratch_dsn, tmp_path)
    assert "3 duplicate groups" in text.stdout

    before = query(db, "SELECT count(*) FROM pg_indexes WHERE tablename = 'fills'")
    refused = cli(
        ["apply", "--yes", "--allow", "destructive,rewrite,blocking,long_running"],
        schema,
        db,
        scratch_dsn,
        tmp_path,
    )
    assert refused.code == 3, refused.stderr
    assert "refused" in refused.stderr and "may_fail" in refused.stderr
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE tablename = 'fills'") == before
    assert query(
        db,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'sessions' AND column_name = 'pairs'",
    ) == [(0,)]

    run_sql(db, "DELETE FROM fills WHERE id > 72")
    assert (
        hazards_of(
            plan_json(schema, db, scratch_dsn, tmp_path), "public.fills.idx_fills_unique_dedup"
        )
        == []
    )
    applied = cli(["apply", "--yes"], schema, db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert plan_json(schema, db, scratch_dsn, tmp_path)["changes"] == []


def test_nulls_not_distinct_counts_null_duplicates(
    db: str, scratch_dsn: str, tmp_path: Path, pg_server: LocalServer
) -> None:
    if pg_server.major < 15:
        pytest.skip("NULLS NOT DISTINCT needs PostgreSQL 15")
    run_sql(db, "CREATE TABLE t (a int, b int); INSERT INTO t VALUES (1, NULL), (1, NULL), (2, 2)")
    distinct = write_schema(
        tmp_path,
        "version: 1\ntables:\n  t:\n    columns:\n      a: {type: integer}\n"
        "      b: {type: integer}\n    indexes:\n      t_ab: {unique: true, columns: [a, b]}\n",
    )
    assert hazards_of(plan_json(distinct, db, scratch_dsn, tmp_path), "public.t.t_ab") == []
    not_distinct = write_schema(
        tmp_path,
        "version: 1\ntables:\n  t:\n    columns:\n      a: {type: integer}\n"
        "      b: {type: integer}\n    indexes:\n"
        "      t_ab: {unique: true, nulls_distinct: false, columns: [a, b]}\n",
    )
    hazards = hazards_of(plan_json(not_distinct, db, scratch_dsn, tmp_path), "public.t.t_ab")
    assert [h["kind"] for h in hazards] == ["may_fail"]
    assert hazards[0]["detail"].startswith("1 duplicate groups")


def test_partial_unique_index_counts_only_covered_rows(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(
        db,
        "CREATE TABLE t (a int, live bool); "
        "INSERT INTO t VALUES (1, false), (1, false), (2, true), (2, true), (3, true)",
    )
    schema = write_schema(
        tmp_path,
        "version: 1\ntables:\n  t:\n    columns:\n      a: {type: integer}\n"
        "      live: {type: boolean}\n    indexes:\n"
        "      t_a: {unique: true, columns: [a], where: live}\n",
    )
    hazards = hazards_of(plan_json(schema, db, scratch_dsn, tmp_path), "public.t.t_a")
    assert [h["detail"].split(";")[0] for h in hazards] == [
        "1 duplicate groups under unique index t_a"
    ]


def test_set_not_null_and_primary_key_count_offending_rows(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(
        db,
        "CREATE TABLE t (id int, name text); "
        "INSERT INTO t VALUES (1, 'a'), (1, NULL), (NULL, NULL), (2, 'b')",
    )
    schema = write_schema(
        tmp_path,
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: integer, nullable: false}\n"
        "      name: {type: text, nullable: false}\n      extra: {type: text, nullable: false}\n"
        "    primary_key: [id]\n",
    )
    plan = plan_json(schema, db, scratch_dsn, tmp_path)
    details = {
        c["object"]: [h["detail"] for h in c["hazards"] if h["kind"] == "may_fail"]
        for c in plan["changes"]
    }
    assert details["public.t.name"] == ["2 rows have name NULL; SET NOT NULL fails"]
    assert details["public.t.id"] == ["1 rows have id NULL; SET NOT NULL fails"]
    assert details["public.t.extra"][0].startswith("public.t has 4 rows")
    pk = next(v for k, v in details.items() if k.startswith("public.t.t_pkey"))
    assert any(d.startswith("1 duplicate groups") for d in pk)
    assert "1 rows have id NULL; the primary key fails" in pk

    result = cli(["apply", "--yes"], schema, db, scratch_dsn, tmp_path)
    assert result.code == 3
    assert query(db, "SELECT count(*) FROM t") == [(4,)]


def test_no_may_fail_when_the_data_is_clean(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, "CREATE TABLE t (id int, name text); INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    schema = write_schema(
        tmp_path,
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: integer, nullable: false}\n"
        "      name: {type: text, nullable: false}\n    primary_key: [id]\n"
        "    indexes:\n      t_name: {unique: true, columns: [name]}\n",
    )
    plan = plan_json(schema, db, scratch_dsn, tmp_path)
    assert plan["changes"]
    assert all(h["kind"] != "may_fail" for c in plan["changes"] for h in c["hazards"])


def test_a_locked_table_does_not_hang_the_plan(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(db, "CREATE TABLE t (id int, name text); INSERT INTO t VALUES (1, 'a')")
    schema = write_schema(
        tmp_path,
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: integer}\n"
        "      name: {type: text}\n    indexes:\n      t_name: {unique: true, columns: [name]}\n",
    )
    monkeypatch.setattr(preflight, "PREFLIGHT_LOCK_MS", 200)
    with psycopg.connect(db) as blocker:
        blocker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        result = cli(["plan", "--format", "json"], schema, db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    hazards = hazards_of(json.loads(result.stdout), "public.t.t_name")
    assert [h["kind"] for h in hazards] == ["may_fail"]
    assert "another session holds a lock" in hazards[0]["detail"]


def test_a_type_without_any_cast_is_read_from_the_text_and_counted(
    db: str, scratch_dsn: str, pg_server: LocalServer, tmp_path: Path
) -> None:
    """bigint to timestamp: no cast at all, so the value's text is read as a timestamp;
    the rows whose text is not one are counted before apply (PostgreSQL 16 and later)."""
    if pg_server.major < 16:
        pytest.skip("pg_input_is_valid needs PostgreSQL 16")
    run_sql(
        db,
        "CREATE TABLE ticks (id int PRIMARY KEY, at bigint); INSERT INTO ticks VALUES "
        "(1, 20260101), (2, 1767225600000), (3, NULL)",
    )
    schema = write_schema(
        tmp_path,
        "version: 1\ntables:\n  ticks:\n    columns:\n      id: {type: int, nullable: false}\n"
        "      at: {type: timestamp}\n    primary_key: [id]\n",
    )
    plan = plan_json(schema, db, scratch_dsn, tmp_path)
    change = next(c for c in plan["changes"] if c["object"] == "public.ticks.at")
    assert change["sql"][-1].endswith('USING "at"::text::timestamp without time zone')
    may_fail = [h for h in change["hazards"] if h["kind"] == "may_fail"]
    assert len(may_fail) == 1 and may_fail[0]["detail"].startswith("1 rows of at")
    allow = ["--allow", "rewrite,may_fail"]
    refused = cli(["apply", "--yes", *allow], schema, db, scratch_dsn, tmp_path)
    assert refused.code == 3
    run_sql(db, "DELETE FROM ticks WHERE id = 2")
    applied = cli(["apply", "--yes", *allow], schema, db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, "SELECT at::text FROM ticks ORDER BY id") == [
        ("2026-01-01 00:00:00",),
        (None,),
    ]
