"""Tables declared alike in many schemas go through the scratch server once per shape, and
read back exactly as they would have one by one."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from mmschema.desired.load import load_desired
from mmschema.model import Catalog
from mmschema.normalize import NormalizeCache, Scratch, normalized_on_scratch, on_scratch
from mmschema.shapes import group_shapes
from tests.outside import Shell


def tenant(schema: str, flip: bool = False) -> str:
    """One tenant's tables; `flip` names the indexes so that they sort the other way."""
    first, second = ("z_by_at", "a_by_total") if flip else ("a_by_at", "z_by_total")
    return f"""\
  {schema}.orders:
    columns:
      id: {{type: int8, identity: by_default}}
      total: {{type: "decimal(12,2)", nullable: false, default: 0}}
      status: {{type: varchar(20), default: "'new'", collation: C}}
      at: {{type: timestamp, default: now()}}
    primary_key: [id]
    checks:
      {schema}_total_check: total >= 0 AND status <> 'x'
    unique: {{{schema}_status_key: {{columns: [status, at]}}}}
    indexes:
      {schema}_{first}: {{columns: [{{expr: "date_trunc('day', at)"}}]}}
      {schema}_{second}: {{columns: [total], where: "status = 'new'"}}
  {schema}.counters:
    columns:
      n: {{type: serial}}
      label: {{type: text}}
    primary_key: [n]
"""


def tenants_file(count: int) -> str:
    return "version: 1\ntables:\n" + "".join(
        tenant(f"t{i}", flip=i % 2 == 1) for i in range(count)
    )


def test_one_table_per_shape_reads_back_as_each_would(tmp_path: Path, scratch_dsn: str) -> None:
    (tmp_path / "schema.yaml").write_text(tenants_file(4))
    desired = load_desired(tmp_path / "schema.yaml")
    present = desired.present_tables()
    names = [t.name for t in present]
    shapes = group_shapes(present, present, [], set())
    # The orders tables are one shape (serial tables are never grouped).
    assert len(shapes.representatives) == 1 + 4
    scratch = Scratch("test", lambda: psycopg.connect(scratch_dsn, autocommit=True))
    cache = NormalizeCache(None)
    live = Catalog()
    grouped = normalized_on_scratch(desired, names, scratch, cache, live, list, [])
    one_by_one = on_scratch(desired, names, scratch, cache, live, list)
    assert grouped.tables == one_by_one.tables
    assert [i.name for i in grouped.tables[names[2]].indexes] == ["t1_a_by_total", "t1_z_by_at"]


@pytest.mark.one_major
def test_tenant_tables_converge_and_their_errors_point_at_each(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", tenants_file(3))
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--detailed-exitcode")
    assert planned.code == 0, planned.output
    broken = tenants_file(3).replace("total >= 0 AND", "total >= nosuch AND")
    shell.write("schema.yaml", broken)
    refused = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert refused.code == 1, refused.output
    for schema in ("t0", "t1", "t2"):
        assert f"check '{schema}_total_check'" in refused.stderr
    assert refused.stderr.count('column "nosuch" does not exist') == 3
    assert "Traceback" not in refused.output
