"""Views and triggers on managed tables that the file does not declare: plan and drift list
them (drift exits 2, as for an undeclared index), `--prune` drops them (destructive)."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.conftest import run_sql
from tests.outside import Shell

FILE = """version: 1
tables:
  orders:
    columns:
      id: {type: bigint, nullable: false}
      total: {type: numeric}
    primary_key: [id]
views:
  big_orders:
    query: SELECT id, total FROM orders WHERE total > 100
"""

LIVE = """
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
CREATE SCHEMA other;
CREATE TABLE other.elsewhere (id int);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE SCHEMA reports;
CREATE VIEW reports.order_ids AS SELECT id FROM orders;
CREATE VIEW reports.first_ids AS SELECT id FROM reports.order_ids WHERE id < 10;
CREATE VIEW other.not_ours AS SELECT id FROM other.elsewhere;
CREATE MATERIALIZED VIEW reports.totals AS SELECT sum(total) AS total FROM orders;
CREATE VIEW reports.totals_text AS SELECT total::text FROM reports.totals;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER elsewhere_touch BEFORE UPDATE ON other.elsewhere
  FOR EACH ROW EXECUTE FUNCTION touch();
"""


def names(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            """SELECT schemaname || '.' || viewname FROM pg_views
               WHERE schemaname IN ('public', 'reports', 'other')
               UNION ALL
               SELECT schemaname || '.' || matviewname FROM pg_matviews
               UNION ALL
               SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"""
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.one_major
def test_undeclared_views_and_triggers_are_listed_then_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, LIVE)
    shell.write("schema.yaml", FILE)
    dev = ("-d", db, "--dev-database", scratch_dsn)

    planned = shell.run("plan", "--detailed-exitcode", *dev)
    assert planned.code == 0, planned.output  # nothing to change: only listed
    for line in (
        "unmanaged view reports.order_ids",
        "unmanaged view reports.first_ids",
        "unmanaged materialized view reports.totals",
        "unmanaged trigger orders_touch on public.orders",
    ):
        assert line in planned.stdout, planned.output
    assert "not_ours" not in planned.output and "elsewhere_touch" not in planned.output
    assert "big_orders" not in planned.stdout  # declared

    drift = shell.run("drift", "--format", "json", *dev)
    assert drift.code == 2, drift.output
    listed = json.loads(drift.stdout)["unmanaged"]
    assert listed == [
        "view reports.first_ids",
        "view reports.totals_text",
        "view reports.order_ids",
        "materialized view reports.totals",
        "trigger orders_touch on public.orders",
    ]

    pruned = shell.run("plan", "--prune", "--format", "json", *dev)
    changes = json.loads(pruned.stdout)["changes"]
    drops = [c for c in changes if c["kind"].startswith("drop_")]
    # a view before those it reads
    assert [c["object"] for c in drops] == [
        "reports.first_ids",
        "reports.totals_text",
        "reports.order_ids",
        "reports.totals",
        "public.orders.orders_touch",
    ]
    assert len(changes) == 5, pruned.output
    assert all(h["kind"] == "destructive" for c in drops for h in c["hazards"])
    assert all(c["hazards"] for c in drops)

    refused = shell.run("apply", "--yes", "--prune", *dev)
    assert refused.code == 3, refused.output
    applied = shell.run("apply", "--yes", "--prune", "--allow", "destructive", *dev)
    assert applied.code == 0, applied.output
    assert names(db) == {"public.big_orders", "other.not_ours", "elsewhere_touch"}
    assert shell.run("drift", *dev).code == 0
