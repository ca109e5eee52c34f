"""long_running and blocking hazards from the live table's size and rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmschema import changes as ch
from mmschema import sizes
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import Index, IndexKey, PrimaryKey
from mmschema.model import QualifiedName
from mmschema.preflight import size_hazards
from mmschema.sizes import TableSize
from tests.clirunner import run_cli
from tests.conftest import run_sql

T = QualifiedName("public", "t")
BIG = TableSize(rows=20_000_000, bytes=5 << 30, has_rows=True)
SMALL = TableSize(rows=10, bytes=8192, has_rows=True)
EMPTY = TableSize(rows=0, bytes=8192, has_rows=False)


def kinds(change: ch.Change, size: TableSize) -> list[str]:
    return [h.kind for h in size_hazards(change, size)]


def test_large_tables_make_rewrites_and_scans_long_running() -> None:
    assert kinds(cc.AlterColumnType(T, "n", "integer", "bigint"), BIG) == ["long_running"]
    assert kinds(cc.AlterColumnType(T, "n", "integer", "bigint"), SMALL) == []
    index = Index("t_n", (IndexKey("n"),))
    assert kinds(tc.CreateIndex(T, index, concurrently=False), BIG) == ["long_running", "blocking"]
    assert kinds(tc.CreateIndex(T, index, concurrently=True), BIG) == []
    set_not_null = cc.AlterColumnNullability(T, "n", nullable=False)
    assert kinds(set_not_null, BIG) == ["long_running"]
    assert kinds(cc.AlterColumnNullability(T, "n", nullable=True), BIG) == []
    many_rows_small_bytes = TableSize(rows=11_000_000, bytes=1, has_rows=True)
    assert "long_running" in kinds(set_not_null, many_rows_small_bytes)


def test_set_not_null_and_primary_key_block_only_with_rows() -> None:
    offline = cc.AlterColumnNullability(T, "n", nullable=False, online=False)
    assert kinds(offline, SMALL) == ["blocking"]
    assert kinds(offline, EMPTY) == []
    # Online, through a validated CHECK, SET NOT NULL itself does not scan.
    assert kinds(cc.AlterColumnNullability(T, "n", nullable=False), SMALL) == []
    pk = tc.AddPrimaryKey(T, PrimaryKey("t_pkey", ("id",)))
    assert kinds(pk, SMALL) == ["blocking"]
    assert kinds(pk, EMPTY) == []
    detail = size_hazards(pk, BIG)[0].detail
    assert "public.t" in detail and "20,000,000 rows" in detail


def test_thresholds_apply_to_a_live_table(
    db: str, scratch_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_sql(
        db,
        "CREATE TABLE t (id int, n int); "
        "INSERT INTO t SELECT g, g FROM generate_series(1, 100) g; ANALYZE t",
    )
    schema = tmp_path / "schema.yaml"
    schema.write_text(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: integer}\n"
        "      n: {type: bigint, nullable: false}\n"
    )
    args = ["plan", "--format", "json", "-f", str(schema), "-d", db, "--dev-database", scratch_dsn]

    def hazards() -> dict[str, list[str]]:
        plan = json.loads(run_cli(args, tmp_path).stdout)
        return {c["kind"]: [h["kind"] for h in c["hazards"]] for c in plan["changes"]}

    assert hazards() == {
        "alter_column_type": ["rewrite"],
        "alter_column_nullability": [],
    }
    monkeypatch.setattr(sizes, "LONG_RUNNING_ROWS", 50)
    assert hazards() == {
        "alter_column_type": ["rewrite", "long_running"],
        "alter_column_nullability": ["long_running"],
    }
