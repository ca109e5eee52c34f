"""Objects the file does not declare in the schemas it manages (tables, views, materialized
views, sequences, functions, procedures, enums, domains, composite and range types): plan
and drift list them, `--prune` drops them (destructive), what depends on them first; never
an extension's, never one something kept uses, never a schema the file does not manage."""

from __future__ import annotations

import json

import psycopg
import pytest
import yaml

from tests.conftest import run_sql
from tests.outside import Shell

FILE = """version: 1
tables:
  orders:
    columns:
      id: {type: bigint, nullable: false}
      status: {type: text}
      placed: {type: bigint, default: "ticket()"}
    primary_key: [id]
"""

LIVE = """
CREATE EXTENSION pg_trgm;
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TYPE old_status AS ENUM ('new', 'done');
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TYPE pair AS (a int, b int);
CREATE TYPE floats AS RANGE (subtype = float8);
CREATE FUNCTION ticket() RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint';
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql RETURN a + b;
CREATE PROCEDURE noop() LANGUAGE sql AS '';
CREATE TABLE orders (id bigint PRIMARY KEY, status old_status, placed bigint DEFAULT ticket());
CREATE TABLE stale (id serial PRIMARY KEY, amount positive, feeling mood, p pair);
CREATE TABLE stale_lines (stale_id int REFERENCES stale, n int);
CREATE SEQUENCE loose;
CREATE VIEW stale_view AS SELECT id, add(id, 1) AS next FROM stale;
CREATE MATERIALIZED VIEW stale_totals AS SELECT count(*) AS n FROM stale_lines;
CREATE SCHEMA other;
CREATE TABLE other.kept (id int);
CREATE FUNCTION other.kept_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
"""

LISTED = [
    "table public.stale",
    "table public.stale_lines",
    "view public.stale_view",
    "materialized view public.stale_totals",
    "sequence public.loose",
    "function public.add(integer, integer)",
    "procedure public.noop()",
    "enum public.mood",
    "enum public.old_status",
    "domain public.positive",
    "composite type public.pair",
    "range type public.floats",
]


def objects(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            """SELECT n.nspname || '.' || c.relname FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname IN ('public', 'other') AND c.relkind IN ('r', 'v', 'm', 'S')
               UNION ALL
               SELECT n.nspname || '.' || p.proname FROM pg_proc p
                 JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname IN ('public', 'other')
                  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid
                                  AND d.deptype = 'e')
               UNION ALL
               SELECT n.nspname || '.' || t.typname FROM pg_type t
                 JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname IN ('public', 'other') AND t.typtype IN ('e', 'd', 'r')
               UNION ALL
               SELECT n.nspname || '.' || t.typname FROM pg_type t
                 JOIN pg_namespace n ON n.oid = t.typnamespace
                 JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
                WHERE n.nspname IN ('public', 'other')"""
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.one_major
def test_undeclared_objects_of_managed_schemas_are_listed_then_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, LIVE)
    shell.write("schema.yaml", FILE)
    dev = ("-d", db, "--dev-database", scratch_dsn)

    planned = shell.run("plan", "--format", "json", *dev)
    assert planned.code == 0, planned.output
    listed = json.loads(planned.stdout)["unmanaged"]
    assert sorted(listed) == sorted(LISTED), planned.output
    # kept: the function a declared default calls, the extension's, other schemas', mmschema's
    text = shell.run("plan", *dev).stdout
    for kept in ("ticket", "similarity", "other.", "mmschema."):
        assert kept not in text, text
    drift = shell.run("drift", *dev)
    assert drift.code == 2, drift.output
    assert "unmanaged table public.stale (kept; --prune drops it)" in drift.stdout

    pruned = shell.run("plan", "--prune", "--format", "json", *dev)
    changes = json.loads(pruned.stdout)["changes"]
    order = [c["object"] for c in changes]
    # what depends on an object is dropped first; the enum after the column leaving it
    assert order.index("public.stale_view") < order.index("public.stale")
    assert order.index("public.stale_lines") < order.index("public.stale")
    assert order.index("public.stale") < order.index("public.positive")
    assert order.index("public.stale") < order.index("public.pair")
    assert order.index("public.orders.status") < order.index("public.old_status")
    drops = [c for c in changes if c["object"] != "public.orders.status"]
    assert all(h["kind"] == "destructive" for c in drops for h in c["hazards"]), pruned.output
    assert any("~0 rows" in h["detail"] for c in drops for h in c["hazards"])

    refused = shell.run("apply", "--yes", "--prune", *dev)
    assert refused.code == 3, refused.output
    applied = shell.run(
        "apply", "--yes", "--prune", "--allow", "destructive,rewrite", *dev
    )
    assert applied.code == 0, applied.output
    assert objects(db) == {"public.orders", "public.ticket", "other.kept", "other.kept_fn"}
    assert shell.run("plan", "--detailed-exitcode", "--prune", *dev).code == 0
    assert shell.run("drift", *dev).code == 0


@pytest.mark.one_major
def test_an_empty_file_schema_is_managed_and_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE SCHEMA app; CREATE TABLE app.t (id int); CREATE SCHEMA gone;")
    shell.write("schema.yaml", "version: 1\nschemas:\n  app: {}\n")
    dev = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", "--yes", "--prune", "--allow", "destructive", *dev)
    assert applied.code == 0, applied.output
    assert "drop_table app.t" in applied.stdout
    with psycopg.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
    assert {"app", "gone"} <= names  # schemas themselves: only `state: absent` drops one


@pytest.mark.one_major
def test_dump_declares_unused_enums_and_empty_schemas(shell: Shell, db: str) -> None:
    run_sql(db, "CREATE TYPE unused AS ENUM ('a', 'b'); CREATE SCHEMA empty;")
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    data = yaml.safe_load(dumped.stdout)
    assert data["enums"] == {"unused": {"labels": ["a", "b"]}}  # no column uses it
    assert data["schemas"] == {"empty": {}}  # public holds the enum: not declared


@pytest.mark.one_major
def test_a_pruned_table_with_rows_never_analyzed_is_not_said_to_be_empty(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE orders (id bigint PRIMARY KEY, status text, placed bigint)")
    run_sql(db, "CREATE TABLE big (id int); INSERT INTO big SELECT generate_series(1, 5000)")
    run_sql(db, "CREATE TABLE empty (id int)")
    shell.write("schema.yaml", FILE.replace(', default: "ticket()"', ""))
    dev = ("-d", db, "--dev-database", scratch_dsn)

    def details() -> dict[str, str]:
        planned = shell.run("plan", "--prune", "--format", "json", *dev)
        changes = json.loads(planned.stdout)["changes"]
        return {c["object"]: c["hazards"][0]["detail"] for c in changes}

    before = details()
    assert "~5,000 rows" in before["public.big"], before
    assert "~0 rows" in before["public.empty"], before
    run_sql(db, "ANALYZE big")
    assert "~5,000 rows" in details()["public.big"]


@pytest.mark.one_major
def test_undeclared_partitioned_tables_are_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """A partitioned table's key columns (and key expression) depend on the table itself
    internally: that is no sign of a piece of another object (pg-schema-diff sequence 009)."""
    run_sql(
        db,
        """CREATE TABLE by_list ("some id" serial, type text) PARTITION BY LIST (type);
           CREATE TABLE by_list_1 PARTITION OF by_list FOR VALUES IN ('1');
           CREATE TABLE by_expr (id int, at timestamp) PARTITION BY RANGE ((at::date));
           CREATE TABLE orders (id bigint PRIMARY KEY, status text, placed bigint)""",
    )
    shell.write("schema.yaml", FILE.replace(', default: "ticket()"', ""))
    dev = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", "--format", "json", *dev)
    assert sorted(json.loads(planned.stdout)["unmanaged"]) == [
        "table public.by_expr",
        "table public.by_list",
    ], planned.output
    applied = shell.run("apply", "--yes", "--prune", "--allow", "destructive", *dev)
    assert applied.code == 0, applied.output
    assert objects(db) == {"public.orders"}


@pytest.mark.one_major
def test_what_prune_leaves_is_not_said_to_be_dropped_by_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TYPE side AS ENUM ('buy', 'sell'); CREATE TABLE t (s side)")
    shell.write(
        "schema.yaml",
        "version: 1\nenums:\n  side: {labels: [buy]}\n"
        "tables:\n  t:\n    columns: {s: {type: side}}\n",
    )
    target = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *target)
    assert "unmanaged enum label public.side.sell (kept; --prune drops it)" in planned.stdout
    pruned = shell.run("plan", "--prune", *target)
    assert pruned.code == 0, pruned.output
    assert "unmanaged enum label public.side.sell (kept, even with --prune)" in pruned.stdout
    assert "--prune drops it" not in pruned.stdout
