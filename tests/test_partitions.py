"""Partitioned tables and partitions: declared, dumped, checked, and left alone when undeclared."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from mmschema.desired.declared import InvalidFile
from mmschema.desired.load import load_text
from tests.clirunner import plan_document, run_against
from tests.conftest import query, run_sql

ALLOW_ALL = "destructive,rewrite,blocking,may_fail,long_running"

LIVE = """
CREATE TABLE ticks (
    id bigint NOT NULL,
    venue text NOT NULL,
    at timestamptz NOT NULL,
    px numeric,
    PRIMARY KEY (id, venue, at)
) PARTITION BY LIST (venue);
CREATE TABLE ticks_a PARTITION OF ticks FOR VALUES IN ('a');
CREATE TABLE ticks_b PARTITION OF ticks FOR VALUES IN ('b', 'c') PARTITION BY RANGE (at);
CREATE TABLE ticks_b_2026 PARTITION OF ticks_b
    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2027-01-01 00:00+00');
CREATE TABLE ticks_rest PARTITION OF ticks DEFAULT;
CREATE INDEX ticks_at ON ticks (at);
CREATE INDEX ticks_a_px ON ticks_a (px);
INSERT INTO ticks VALUES (1, 'a', now(), 1), (2, 'b', '2026-03-01', 2), (3, 'z', now(), 3);
"""


TICKS_COLUMNS = {
    "id": {"type": "bigint", "nullable": False},
    "venue": {"type": "text", "nullable": False},
    "at": {"type": "timestamptz", "nullable": False},
    "px": {"type": "numeric"},
}


def write(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_dump_of_partitions_plans_nothing_and_rebuilds_them(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, LIVE)
    dumped = tmp_path / "dumped.yaml"
    result = run_against(["dump", "-o", str(dumped)], db, scratch_dsn, tmp_path)
    assert result.code == 0, result.stderr
    tables = yaml.safe_load(dumped.read_text())["tables"]
    assert tables["ticks"]["partition_by"] == "LIST (venue)"
    assert tables["ticks_b"]["partition_of"] == {
        "table": "ticks",
        "bound": "FOR VALUES IN ('b', 'c')",
    }
    assert tables["ticks_b"]["partition_by"] == "RANGE (at)"
    assert tables["ticks_rest"]["partition_of"]["bound"] == "DEFAULT"
    assert "columns" not in tables["ticks_a"]  # a partition's columns are its parent's
    # The parent's index reaches every partition; only the partition's own is declared there.
    assert list(tables["ticks_a"]["indexes"]) == ["ticks_a_px"]
    args = ["plan", "-f", str(dumped), "--detailed-exitcode"]
    again = run_against(args, db, scratch_dsn, tmp_path)
    assert again.code == 0, again.stdout + again.stderr

    run_sql(db, "DROP TABLE ticks")
    applied = run_against(["apply", "-f", str(dumped), "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    rows = query(
        db,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_class c "
        "WHERE c.relispartition AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    assert [r[0] for r in rows] == ["ticks_a", "ticks_b", "ticks_b_2026", "ticks_rest"]
    redumped = run_against(["dump"], db, scratch_dsn, tmp_path)
    assert yaml.safe_load(redumped.stdout) == yaml.safe_load(dumped.read_text())


def test_undeclared_partitioning_is_unmanaged_until_prune(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """A file written without partition_by must not drop a live partitioned table."""
    run_sql(db, LIVE)
    path = write(
        tmp_path,
        {
            "version": 1,
            "tables": {
                "ticks": {
                    "columns": TICKS_COLUMNS,
                    "primary_key": ["id", "venue", "at"],
                    "indexes": {"ticks_at": {"columns": ["at"]}},
                },
                "ticks_a": {
                    "columns": TICKS_COLUMNS,
                    "primary_key": ["id", "venue", "at"],
                    "indexes": {"ticks_a_px": {"columns": ["px"]}},
                },
            },
        },
    )
    kept = plan_document(path, db, scratch_dsn, tmp_path)
    assert kept["changes"] == []
    assert sorted(kept["unmanaged"]) == [
        "partition public.ticks_a (of public.ticks)",
        "partitioning public.ticks (PARTITION BY LIST (venue))",
    ]

    pruned = plan_document(path, db, scratch_dsn, tmp_path, "--prune")
    kinds = [(c["kind"], c["object"]) for c in pruned["changes"]]
    assert ("replace_table", "public.ticks") in kinds
    replace = next(c for c in pruned["changes"] if c["kind"] == "replace_table")
    assert [h["kind"] for h in replace["hazards"]] == ["destructive"]
    refused = run_against(["apply", "-f", str(path), "--yes", "--prune"], db, scratch_dsn, tmp_path)
    assert refused.code == 3
    assert query(db, "SELECT relkind::text FROM pg_class WHERE relname = 'ticks'") == [("p",)]

    applied = run_against(
        ["apply", "-f", str(path), "--yes", "--prune", "--allow", ALLOW_ALL],
        db,
        scratch_dsn,
        tmp_path,
    )
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, "SELECT relkind::text FROM pg_class WHERE relname = 'ticks'") == [("r",)]
    assert query(db, "SELECT relispartition FROM pg_class WHERE relname = 'ticks_a'") == [(False,)]
    assert plan_document(path, db, scratch_dsn, tmp_path, "--prune")["changes"] == []


def test_partition_mistakes_are_reported_at_their_place() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        tables:
          plain:
            columns:
              id: {type: int}
          part_of_plain:
            partition_of: {table: plain, bound: DEFAULT}
          part_of_nothing:
            partition_of: {table: nowhere, bound: DEFAULT}
          parted:
            columns:
              id: {type: int}
            partition_by: RANGE (id)
          part_with_columns:
            partition_of: {table: parted, bound: "FOR VALUES FROM (1) TO (2)"}
            columns:
              id: {type: int}
        """
    )
    try:
        load_text(text)
    except InvalidFile as invalid:
        errors = invalid.errors
    else:
        raise AssertionError("the file must be rejected")
    assert errors == [
        "schema.yaml:6:3: table public.part_of_plain is a partition of public.plain, "
        "which has no partition_by",
        "schema.yaml:8:3: table public.part_of_nothing is a partition of public.nowhere, "
        "which the file does not declare",
        "schema.yaml:17:12: unknown key 'type' in column 'id' (expected one of: nullable, "
        "default)",
    ]


INDEXED = """
version: 1
tables:
  ticks:
    columns:
      id: {type: bigint, nullable: false}
      venue: {type: text, nullable: false}
      at: {type: timestamptz, nullable: false}
      px: {type: numeric}
    partition_by: LIST (venue)
    primary_key: [id, venue, at]
    indexes:
      ticks_at: {columns: [at]}
      ticks_px: {columns: [px]}
"""

INDEX_PARTS = """
SELECT p.relname, i.relname, x.indisvalid
FROM pg_inherits h
JOIN pg_class i ON i.oid = h.inhrelid
JOIN pg_index x ON x.indexrelid = i.oid
JOIN pg_class p ON p.oid = x.indrelid
WHERE h.inhparent = 'ticks_px'::regclass
ORDER BY 1
"""


def test_index_on_a_partitioned_table_is_built_concurrently_per_partition(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, LIVE)
    path = tmp_path / "schema.yaml"
    path.write_text(INDEXED)
    planned = plan_document(path, db, scratch_dsn, tmp_path)
    build = next(c for c in planned["changes"] if c["object"] == "public.ticks.ticks_px")
    assert build["kind"] == "create_index" and build["transactional"] is False
    assert build["hazards"] == []
    assert build["sql"][0] == 'CREATE INDEX "ticks_px" ON ONLY "public"."ticks" USING btree ("px")'
    concurrent = [s for s in build["sql"] if s.startswith("CREATE INDEX CONCURRENTLY")]
    # the leaves: ticks_a, ticks_b_2026, ticks_rest (ticks_b is partitioned: ON ONLY)
    assert len(concurrent) == 3
    applied = run_against(["apply", "-f", str(path), "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ticks_px'::regclass") == [
        (True,)
    ]
    assert [(r[0], r[2]) for r in query(db, INDEX_PARTS)] == [
        ("ticks_a", True),
        ("ticks_b", True),
        ("ticks_rest", True),
    ]


def test_an_interrupted_partitioned_build_is_finished_by_the_next_apply(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """What a build cut off halfway leaves: the parent's index invalid, one part attached,
    another partition's concurrent build invalid and unattached."""
    run_sql(db, LIVE)
    run_sql(
        db,
        """
        CREATE INDEX ticks_px ON ONLY ticks (px);
        CREATE INDEX ticks_a_ticks_px ON ticks_a (px);
        ALTER INDEX ticks_px ATTACH PARTITION ticks_a_ticks_px;
        CREATE INDEX ticks_rest_ticks_px ON ticks_rest (px);
        UPDATE pg_index SET indisvalid = false
         WHERE indexrelid = 'ticks_rest_ticks_px'::regclass;
        """,
    )
    path = tmp_path / "schema.yaml"
    path.write_text(INDEXED)
    planned = plan_document(path, db, scratch_dsn, tmp_path)
    build = next(c for c in planned["changes"] if c["object"] == "public.ticks.ticks_px")
    # The parent's index and ticks_a's part stay; the rest is built, the leftover first dropped.
    assert not any('"ticks_px"' in s and "DROP" in s for s in build["sql"])
    assert not any('"ticks_a"' in s for s in build["sql"])
    assert 'DROP INDEX CONCURRENTLY IF EXISTS "public"."ticks_rest_ticks_px"' in build["sql"]
    applied = run_against(["apply", "-f", str(path), "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    invalid = query(
        db, "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid ORDER BY 1"
    )
    assert invalid == []
    assert [r[0] for r in query(db, INDEX_PARTS)] == ["ticks_a", "ticks_b", "ticks_rest"]
    assert plan_document(path, db, scratch_dsn, tmp_path)["changes"] == []


def test_prune_keeps_a_partition_index_the_new_parent_index_takes_over(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """ticks_a_px equals the new parent index: attached to it, not pruned and built again."""
    run_sql(db, LIVE)
    dumped = yaml.safe_load(run_against(["dump"], db, scratch_dsn, tmp_path).stdout)
    dumped["tables"]["ticks"]["indexes"]["ticks_px"] = {"columns": ["px"]}
    del dumped["tables"]["ticks_a"]["indexes"]
    path = write(tmp_path, dumped)
    applied = run_against(["apply", "-f", str(path), "--yes", "--prune"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert ("ticks_a", "ticks_a_px", True) in query(db, INDEX_PARTS)
    assert plan_document(path, db, scratch_dsn, tmp_path, "--prune")["changes"] == []


def test_a_changed_index_on_a_partitioned_table_is_replaced_piece_by_piece(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, LIVE)
    dumped = yaml.safe_load(run_against(["dump"], db, scratch_dsn, tmp_path).stdout)
    dumped["tables"]["ticks"]["indexes"]["ticks_at"] = {"columns": ["at", "px"]}
    path = write(tmp_path, dumped)
    change = next(
        c
        for c in plan_document(path, db, scratch_dsn, tmp_path)["changes"]
        if c["object"] == "public.ticks.ticks_at"
    )
    assert change["kind"] == "replace_index" and change["hazards"] == []
    assert sum(s.startswith("CREATE INDEX CONCURRENTLY") for s in change["sql"]) == 3
    applied = run_against(["apply", "-f", str(path), "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    parts = query(
        db,
        "SELECT i.relname, x.indisvalid FROM pg_inherits h JOIN pg_class i ON i.oid = h.inhrelid "
        "JOIN pg_index x ON x.indexrelid = i.oid WHERE h.inhparent = 'ticks_at'::regclass "
        "ORDER BY 1",
    )
    assert parts == [  # named as CREATE INDEX on the parent names them
        ("ticks_a_at_px_idx", True),
        ("ticks_b_at_px_idx", True),
        ("ticks_rest_at_px_idx", True),
    ]
    assert plan_document(path, db, scratch_dsn, tmp_path)["changes"] == []


def test_parts_of_a_piecemeal_index_are_named_as_postgresql_names_them(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """CREATE INDEX on the parent names a partition's part <partition>_<columns>_idx (a
    number added when taken); a piecemeal build ends with the same names (ticks_a_px, an
    equal index, is taken over as it is)."""
    run_sql(db, LIVE)
    run_sql(db, "CREATE INDEX ticks_rest_px_idx ON ticks_rest (at)")
    dumped = yaml.safe_load(run_against(["dump"], db, scratch_dsn, tmp_path).stdout)
    del dumped["tables"]["ticks_rest"]["indexes"]  # unmanaged, kept, its name taken
    dumped["tables"]["ticks"]["indexes"]["ticks_lower"] = {"columns": ["px"]}
    path = write(tmp_path, dumped)
    applied = run_against(["apply", "-f", str(path), "--yes"], db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    parts = query(
        db,
        "SELECT i.relname FROM pg_inherits h JOIN pg_class i ON i.oid = h.inhrelid "
        "WHERE h.inhparent = 'ticks_lower'::regclass ORDER BY 1",
    )
    assert [p[0] for p in parts] == ["ticks_a_px", "ticks_b_px_idx", "ticks_rest_px_idx1"]
    assert plan_document(path, db, scratch_dsn, tmp_path)["changes"] == []
