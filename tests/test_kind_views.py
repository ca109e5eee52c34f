"""Views declared under `views:`, through the installed command: plan, apply, dump, errors."""

from __future__ import annotations

import secrets

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
      total: {type: numeric}
    primary_key: [id]
views:
  big_orders:
    query: SELECT id, total FROM orders WHERE total > 100
    comment: orders over 100
  big_order_ids:
    query: select id from big_orders
    options: {security_barrier: true}
"""


@pytest.mark.one_major
def test_declared_views_are_created_and_converge(shell: Shell, db: str, scratch_dsn: str) -> None:
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);")
    run_sql(db, "CREATE VIEW someone_elses AS SELECT id FROM orders;")
    shell.write("schema.yaml", FILE)
    assert plan_code(shell, db, scratch_dsn) == 2
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:  # not in the file: left alone
        found = conn.execute("SELECT count(*) FROM pg_views WHERE viewname = 'someone_elses'")
        assert found.fetchone() == (1,)

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    views = yaml.safe_load(dumped.stdout)["views"]
    assert views["big_orders"]["comment"] == "orders over 100"
    assert views["big_order_ids"]["options"] == {"security_barrier": True}
    # the dump, as the file, plans nothing (the unmanaged view is in it too now)
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_changed_view_is_replaced_and_a_removed_column_rebuilds(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);")
    shell.write("schema.yaml", FILE)
    assert shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn).code == 0
    appended = FILE.replace("SELECT id, total FROM", "SELECT id, total, total * 2 AS twice FROM")
    shell.write("schema.yaml", appended)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert "CREATE OR REPLACE VIEW" in planned.stdout, planned.output
    assert shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn).code == 0
    assert plan_code(shell, db, scratch_dsn) == 0
    narrowed = FILE.replace("SELECT id, total FROM", "SELECT id FROM")
    shell.write("schema.yaml", narrowed)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    text = planned.stdout
    assert 'DROP VIEW IF EXISTS "public"."big_order_ids"' in text, planned.output
    dropped = text.index('DROP VIEW "public"."big_orders"')
    assert dropped < text.index('CREATE VIEW "public"."big_orders"')
    assert shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn).code == 0
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_query_that_is_not_one_select_is_refused_before_any_server(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\nviews:\n  v:\n    query: SELECT 1; DROP TABLE orders\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:4:" in outcome.output and "must be one query" in outcome.output
    assert "Traceback" not in outcome.output


@pytest.mark.one_major
def test_a_view_the_server_rejects_is_placed_in_the_file(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY);")
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  orders:\n    columns: {id: {type: bigint}}\n"
        "views:\n  v:\n    query: SELECT nosuch FROM orders\n",
    )
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:6:3: view public.v:" in outcome.output
    assert "nosuch" in outcome.output and "Traceback" not in outcome.output


@pytest.mark.one_major
def test_a_rebuilt_view_keeps_its_owner_and_grants(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    owner, reader = (f"{stem}_{secrets.token_hex(3)}" for stem in ("reports", "analyst"))
    run_sql(
        db,
        f"""CREATE ROLE {owner}; CREATE ROLE {reader};
        CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
        CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
        CREATE VIEW big_order_ids AS SELECT id FROM big_orders;
        ALTER VIEW big_orders OWNER TO {owner};
        ALTER VIEW big_order_ids OWNER TO {owner};
        GRANT SELECT ON big_orders TO {reader};
        GRANT SELECT, UPDATE ON big_order_ids TO {reader}, PUBLIC;""",
    )
    narrowed = FILE.replace("SELECT id, total FROM", "SELECT id FROM")
    shell.write("schema.yaml", narrowed.split("  big_order_ids:")[0])  # the reader undeclared
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    text = planned.stdout
    assert 'DROP VIEW "public"."big_orders"' in text, planned.output
    for line in (
        f'ALTER VIEW "public"."big_orders" OWNER TO "{owner}"',
        f'GRANT SELECT ON "public"."big_orders" TO {reader}',
        f'ALTER VIEW "public"."big_order_ids" OWNER TO "{owner}"',
        'GRANT UPDATE ON "public"."big_order_ids" TO PUBLIC',
    ):
        assert line in text, planned.output
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            """SELECT relname, pg_get_userbyid(relowner), relacl::text[] FROM pg_class
               WHERE relname IN ('big_orders', 'big_order_ids') ORDER BY relname"""
        ).fetchall()
    assert [(name, who) for name, who, _ in rows] == [
        ("big_order_ids", owner),
        ("big_orders", owner),
    ]
    ids_acl, orders_acl = rows[0][2], rows[1][2]
    assert f"{reader}=rw/{owner}" in ids_acl and f"=rw/{owner}" in ids_acl
    assert f"{reader}=r/{owner}" in orders_acl
