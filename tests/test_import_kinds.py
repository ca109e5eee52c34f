"""`mmschema import`: CREATE VIEW, FUNCTION, TRIGGER and MATERIALIZED VIEW statements of
migration folders become file entries, as the folder leaves them (drops, renames too)."""

from __future__ import annotations

import pytest
import yaml

from tests.outside import Shell

MIGRATIONS = {
    "m/001-base.sql": """CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
CREATE VIEW big_orders AS SELECT id FROM orders WHERE total > 100;
CREATE VIEW old_report AS SELECT count(*) AS n FROM orders;
CREATE VIEW draft AS SELECT id, total FROM orders;
""",
    "m/002-more.sql": """CREATE OR REPLACE VIEW big_orders AS
    SELECT id, total FROM orders WHERE total > 100;
DROP VIEW old_report;
ALTER VIEW draft RENAME TO order_totals;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE MATERIALIZED VIEW order_sums AS SELECT sum(total) AS total FROM orders;
REFRESH MATERIALIZED VIEW order_sums;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY small ON orders FOR SELECT USING (total < 10);
ALTER POLICY small ON orders USING (total < 100);
""",
}


@pytest.mark.one_major
def test_views_functions_triggers_and_matviews_are_imported(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    for name, text in MIGRATIONS.items():
        shell.write(name, text)
    imported = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert imported.code == 0, imported.output
    assert "left out" not in imported.output
    document = yaml.safe_load(shell.path("schema.yaml").read_text())
    assert sorted(document["views"]) == ["big_orders", "order_totals"]
    assert "total" in document["views"]["big_orders"]["query"]  # the replaced query
    assert list(document["materialized_views"]) == ["order_sums"]
    assert list(document["triggers"]) == ["orders.orders_touch"]
    assert len(document["functions"]) == 1
    assert document["policies"] == {
        "orders.small": {"command": "select", "using": "(total < (100)::numeric)"}
    }

    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    drift = shell.run("drift", "-d", db, "--dev-database", scratch_dsn)
    assert drift.code == 0, drift.output
