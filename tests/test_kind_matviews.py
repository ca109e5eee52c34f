"""Materialized views under `materialized_views:`, through the installed command."""

from __future__ import annotations

import json

import psycopg
import pytest
import yaml

from tests.conftest import run_sql
from tests.outside import Shell, plan_code

FILE = """version: 1
tables:
  orders:
    columns:
      id: {type: bigint, nullable: false}
      customer: {type: text}
      total: {type: numeric}
    primary_key: [id]
materialized_views:
  customer_totals:
    query: SELECT customer, sum(total) AS total FROM orders GROUP BY customer
    indexes:
      customer_totals_customer: {columns: [customer], unique: true}
    comment: totals per customer
    with: {fillfactor: 90, autovacuum_enabled: false}
  later:
    query: select customer from customer_totals
    with_data: false
"""


@pytest.mark.one_major
def test_declared_materialized_views_are_built_dumped_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric);")
    run_sql(db, "INSERT INTO orders VALUES (1, 'a', 10), (2, 'a', 5), (3, 'b', 1);")
    shell.write("schema.yaml", FILE)
    assert plan_code(shell, db, scratch_dsn) == 2
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT customer, total FROM customer_totals ORDER BY 1").fetchall()
        assert [(c, int(t)) for c, t in rows] == [("a", 15), ("b", 1)]
        populated = conn.execute("SELECT relispopulated FROM pg_class WHERE relname = 'later'")
        assert populated.fetchone() == (False,)

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    section = yaml.safe_load(dumped.stdout)["materialized_views"]
    assert section["customer_totals"]["indexes"] == {
        "customer_totals_customer": {"columns": ["customer"], "unique": True}
    }
    assert section["customer_totals"]["comment"] == "totals per customer"
    assert section["customer_totals"]["with"] == {"autovacuum_enabled": False, "fillfactor": 90}
    assert section["later"]["with_data"] is False
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_changed_query_rebuilds_with_the_view_reading_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric);")
    shell.write("schema.yaml", FILE)
    assert shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn).code == 0
    run_sql(db, "CREATE VIEW reader AS SELECT customer FROM customer_totals;")
    changed = FILE.replace("sum(total) AS total", "sum(total) AS total, count(*) AS n")
    shell.write("schema.yaml", changed)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    text = planned.stdout
    assert text.index('DROP VIEW IF EXISTS "public"."reader"') < text.index(
        'DROP MATERIALIZED VIEW "public"."customer_totals"'
    ), planned.output
    assert text.index("CREATE MATERIALIZED VIEW") < text.index('CREATE VIEW "public"."reader"')
    assert shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn).code == 0
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_building_over_a_big_table_is_long_running(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric);")
    # The planner's estimate is what plan reads: pretend the table holds 20 million rows.
    run_sql(db, "UPDATE pg_class SET reltuples = 2e7 WHERE oid = 'orders'::regclass;")
    shell.write("schema.yaml", FILE)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    assert planned.code == 0, planned.output
    changes = {c["object"]: c for c in json.loads(planned.stdout)["changes"]}
    built = changes["public.customer_totals"]["hazards"]
    assert [h["kind"] for h in built] == ["long_running"]
    assert "20,000,000 rows" in built[0]["detail"]
    assert changes["public.later"]["hazards"] == []  # WITH NO DATA reads nothing
    refused = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert refused.code == 3, refused.output


@pytest.mark.one_major
def test_a_query_that_is_not_one_select_is_refused_before_any_server(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\nmaterialized_views:\n  m:\n    query: SELECT 1; DROP TABLE orders\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:4:" in outcome.output and "must be one query" in outcome.output
    assert "Traceback" not in outcome.output


@pytest.mark.one_major
def test_index_comments_of_a_materialized_view_are_set_and_dumped(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """A comment on a materialized view's index is applied, changed in place (no index
    rebuilt) and dumped (pgschema's add_index_comment pair)."""
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric);")
    run_sql(db, "CREATE MATERIALIZED VIEW kept AS SELECT customer FROM orders;")
    run_sql(db, "CREATE INDEX kept_customer ON kept (customer);")
    commented = FILE.replace(
        "{columns: [customer], unique: true}",
        "{columns: [customer], unique: true, comment: one row per customer}",
    ) + (
        "  kept:\n    query: SELECT customer FROM orders\n"
        "    indexes:\n      kept_customer: {columns: [customer], comment: by customer}\n"
    )
    shell.write("schema.yaml", commented)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert "COMMENT ON INDEX \"public\".\"kept_customer\" IS 'by customer'" in planned.stdout
    assert "DROP INDEX" not in planned.stdout, planned.output
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    dumped = yaml.safe_load(shell.run("dump", "-d", db).stdout)["materialized_views"]
    assert dumped["kept"]["indexes"]["kept_customer"]["comment"] == "by customer"
    index = dumped["customer_totals"]["indexes"]["customer_totals_customer"]
    assert index["comment"] == "one row per customer"
    shell.write("schema.yaml", commented.replace(", comment: by customer", ""))
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert "COMMENT ON INDEX \"public\".\"kept_customer\" IS NULL" in planned.stdout
