"""Consecutive plain changes of one table commit together: all done, or none."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmschema.kinds.tables import column_changes as cc
from tests.clirunner import run_cli
from tests.conftest import query, run_sql

SCHEMA = """
version: 1
tables:
  t:
    columns:
      id: {type: int}
      first: {type: text}
      boom: {type: text}
    primary_key: [id]
"""
# An event trigger that fails any ALTER TABLE once the column "boom" exists.
TRAP = """
CREATE TABLE t (id int PRIMARY KEY);
CREATE FUNCTION trap() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'public.t'::regclass
             AND attname = 'boom' AND NOT attisdropped) THEN
    RAISE EXCEPTION 'trapped';
  END IF;
END $$;
CREATE EVENT TRIGGER trap ON ddl_command_end WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION trap();
"""


def columns(db: str) -> list[str]:
    rows = query(
        db, "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0"
    )
    return sorted(str(r[0]) for r in rows)


def test_a_failure_in_a_batch_undoes_the_whole_batch(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, TRAP)
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA)
    common = ["-f", str(schema), "-d", db, "--dev-database", scratch_dsn]
    failed = run_cli(["apply", *common, "--yes"], tmp_path)
    assert failed.code == 1
    assert "trapped" in failed.stdout + failed.stderr
    assert columns(db) == ["id"]  # "first" was rolled back with "boom"

    run_sql(db, "DROP EVENT TRIGGER trap")
    applied = run_cli(["apply", *common, "--yes"], tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert columns(db) == ["boom", "first", "id"]
    assert "changed: [add_column] public.t.first" in applied.stdout
    assert "changed: [add_column] public.t.boom" in applied.stdout


@pytest.mark.one_major
def test_an_online_swap_is_never_batched_with_the_tables_other_changes() -> None:
    """Batched, the swap's ACCESS EXCLUSIVE lock would be held across the batch's other
    statements (a validation's scan, round trips): writers waited 164 ms on it at 5M rows."""
    from mmschema import changes as ch
    from mmschema.apply import batches
    from mmschema.ddl import statements
    from mmschema.model import QualifiedName
    from mmschema.plan import PlannedChange

    table = QualifiedName("public", "fills")
    steps: list[ch.Change] = [
        cc.RetypeSwap(table, "id", "_mms_new_id", "bigint", "_mms_sync_x"),
        cc.RetypeSwap(table, "price", "_mms_new_price", "double precision", "_mms_sync_y"),
        cc.AlterSequenceType(table, "id", "public.fills_id_seq", "bigint"),
        cc.AlterColumnDefault(table, "size", None, "0"),
    ]
    planned = [PlannedChange(c, tuple(statements(c)), ()) for c in steps]
    assert [len(b) for b in batches(planned)] == [1, 1, 2]
