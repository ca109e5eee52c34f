"""A table dropped and created again (its partitioning changed) keeps the declared triggers,
views and materialized views on it: they are dropped first where they would block the drop,
and made again after it, in the same apply."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

BEFORE = """
CREATE TABLE readings (id integer NOT NULL, at date NOT NULL, value numeric,
                       version integer DEFAULT 0, PRIMARY KEY (id, at));
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN NEW.version := OLD.version + 1; RETURN NEW; END $$;
CREATE TRIGGER readings_bump BEFORE UPDATE ON readings FOR EACH ROW EXECUTE FUNCTION bump();
CREATE MATERIALIZED VIEW monthly AS
  SELECT date_trunc('month', at) AS month, sum(value) AS total FROM readings GROUP BY 1;
CREATE VIEW recent AS SELECT id, at FROM readings WHERE at > DATE '2020-01-01';
CREATE VIEW recent_ids AS SELECT id FROM recent;
"""

FILE = """version: 1
tables:
  readings:
    columns:
      id: {type: integer, nullable: false}
      at: {type: date, nullable: false}
      value: {type: numeric}
      version: {type: integer, default: "0"}
    primary_key: [id, at]
    partition_by: RANGE (at)
triggers:
  readings.readings_bump:
    timing: before
    events: [update]
    for_each: row
    function: bump
materialized_views:
  monthly:
    query: SELECT date_trunc('month', at) AS month, sum(value) AS total FROM readings GROUP BY 1
views:
  recent:
    query: SELECT id, at FROM readings WHERE at > DATE '2020-01-01'
  recent_ids:
    query: SELECT id FROM recent
"""


@pytest.mark.one_major
def test_a_replaced_table_keeps_its_declared_triggers_and_views(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    applied = shell.run(
        "apply", "--yes", "--allow", "destructive", "-d", db, "--dev-database", scratch_dsn
    )
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert query(db, "SELECT relkind FROM pg_class WHERE relname = 'readings'") == [("p",)]
    assert query(
        db, "SELECT tgname FROM pg_trigger WHERE tgrelid = 'readings'::regclass"
    ) == [("readings_bump",)]
    assert query(db, "SELECT count(*) FROM recent_ids, monthly") == [(0,)]
