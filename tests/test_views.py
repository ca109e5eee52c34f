"""Views and materialized views reading a retyped column are dropped and made again as they were."""

from __future__ import annotations

from pathlib import Path

from tests.clirunner import plan_document, run_against
from tests.conftest import query, run_sql

BEFORE = """
CREATE TABLE fills (id integer PRIMARY KEY, qty integer, venue text);
CREATE VIEW big_fills WITH (security_barrier = true) AS
    SELECT id, qty FROM fills WHERE qty > 100;
CREATE VIEW big_fill_count AS SELECT count(*) AS n, max(qty) AS top FROM big_fills;
CREATE VIEW venues AS SELECT DISTINCT venue FROM fills;
COMMENT ON VIEW big_fills IS 'fills worth a look';
CREATE ROLE mms_view_reader;
GRANT SELECT ON big_fills TO mms_view_reader;
INSERT INTO fills VALUES (1, 50, 'a'), (2, 500, 'b');
"""

SCHEMA = """
version: 1
tables:
  fills:
    columns:
      id: {type: integer, nullable: false}
      qty: {type: bigint}
      venue: {type: text}
    primary_key: [id]
"""

VIEWS = """
SELECT c.relname, pg_get_viewdef(c.oid, true), c.reloptions,
       obj_description(c.oid, 'pg_class'),
       has_table_privilege('mms_view_reader', c.oid, 'SELECT')
FROM pg_class c WHERE c.relkind = 'v' AND c.relnamespace = 'public'::regnamespace
ORDER BY 1
"""


def test_views_over_a_retyped_column_are_rebuilt_as_they_were(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, "DROP ROLE IF EXISTS mms_view_reader")
    run_sql(db, BEFORE)
    before = query(db, VIEWS)
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA)
    planned = plan_document(path, db, scratch_dsn, tmp_path)
    kinds = [(c["kind"], c["object"]) for c in planned["changes"]]
    # The view of the view goes first and comes back last; `venues` reads no retyped column.
    assert kinds == [
        ("drop_view", "public.big_fill_count"),
        ("drop_view", "public.big_fills"),
        ("alter_column_type", "public.fills.qty"),
        ("create_view", "public.big_fills"),
        ("create_view", "public.big_fill_count"),
    ]
    applied = run_against(
        ["apply", "-f", str(path), "--yes", "--allow", "rewrite"], db, scratch_dsn, tmp_path
    )
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, VIEWS) == before
    assert query(db, "SELECT top FROM big_fill_count") == [(500,)]
    top_type = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
    top_type += "WHERE attrelid = 'big_fill_count'::regclass AND attname = 'top'"
    assert query(db, top_type) == [("bigint",)]
    run_sql(db, "DROP VIEW big_fill_count, big_fills; DROP ROLE mms_view_reader")


def test_a_materialized_view_is_made_again_with_its_data_indexes_and_grants(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(db, "DROP ROLE IF EXISTS mms_view_reader")
    run_sql(
        db,
        "CREATE TABLE fills (id integer PRIMARY KEY, qty integer);"
        "INSERT INTO fills VALUES (1, 50), (2, 500);"
        "CREATE MATERIALIZED VIEW qty_total AS SELECT sum(qty) AS total FROM fills;"
        "CREATE UNIQUE INDEX qty_total_one ON qty_total (total);"
        "COMMENT ON MATERIALIZED VIEW qty_total IS 'kept';"
        "CREATE ROLE mms_view_reader; GRANT SELECT ON qty_total TO mms_view_reader;"
        "CREATE MATERIALIZED VIEW qty_later AS SELECT qty FROM fills WITH NO DATA;",
    )
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA.replace("      venue: {type: text}\n", ""))
    planned = plan_document(path, db, scratch_dsn, tmp_path)
    kinds = [(c["kind"], c["object"]) for c in planned["changes"]]
    assert ("drop_materialized_view", "public.qty_total") in kinds
    assert kinds[-2:] == [
        ("create_materialized_view", "public.qty_later"),
        ("create_materialized_view", "public.qty_total"),
    ]
    applied = run_against(
        ["apply", "-f", str(path), "--yes", "--allow", "rewrite"], db, scratch_dsn, tmp_path
    )
    assert applied.code == 0, applied.stdout + applied.stderr
    assert query(db, "SELECT total FROM qty_total") == [(550,)]
    kept = (
        "SELECT obj_description('qty_total'::regclass, 'pg_class'),"
        " has_table_privilege('mms_view_reader', 'qty_total', 'SELECT'),"
        " (SELECT relispopulated FROM pg_class WHERE relname = 'qty_later'),"
        " (SELECT count(*) FROM pg_indexes WHERE indexname = 'qty_total_one')"
    )
    assert query(db, kept) == [("kept", True, False, 1)]
    types = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
    types += "WHERE attrelid = 'qty_total'::regclass AND attname = 'total'"
    assert query(db, types) == [("numeric",)]
    run_sql(db, "DROP MATERIALIZED VIEW qty_total, qty_later; DROP ROLE mms_view_reader")


def test_a_view_with_a_trigger_is_not_rebuilt_and_apply_says_what_blocks(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(
        db,
        "CREATE TABLE fills (id integer PRIMARY KEY, qty integer);"
        "CREATE VIEW qty_view AS SELECT id, qty FROM fills;"
        "CREATE FUNCTION qty_view_insert() RETURNS trigger LANGUAGE plpgsql AS"
        " $$BEGIN RETURN NEW; END$$;"
        "CREATE TRIGGER qty_view_insert INSTEAD OF INSERT ON qty_view"
        " FOR EACH ROW EXECUTE FUNCTION qty_view_insert();",
    )
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA.replace("      venue: {type: text}\n", ""))
    applied = run_against(
        ["apply", "-f", str(path), "--yes", "--allow", "rewrite"], db, scratch_dsn, tmp_path
    )
    assert applied.code == 1
    assert "view qty_view depends on column" in applied.stdout + applied.stderr
    assert "Traceback" not in applied.stderr
    types = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
    types += "WHERE attrelid = 'fills'::regclass AND attname = 'qty'"
    assert query(db, types) == [("integer",)]


def test_dropping_a_column_names_and_drops_what_depends_on_it(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(
        db,
        "CREATE TABLE fills (id integer PRIMARY KEY, qty integer, venue text);"
        "CREATE VIEW venue_list AS SELECT DISTINCT venue FROM fills;"
        "CREATE POLICY own_venue ON fills USING (venue = current_user);"
        "CREATE TABLE stale (id integer); CREATE VIEW stale_ids AS SELECT id FROM stale;",
    )
    path = tmp_path / "schema.yaml"
    path.write_text(
        SCHEMA.replace("venue: {type: text}", "venue: {state: absent}").replace(
            "qty: {type: bigint}", "qty: {type: integer}"
        )
        + "  stale: {state: absent}\n"
    )
    planned = plan_document(path, db, scratch_dsn, tmp_path)
    changes = {c["object"]: c for c in planned["changes"]}
    drop = changes["public.fills.venue"]
    assert drop["sql"] == ['ALTER TABLE "public"."fills" DROP COLUMN "venue" CASCADE']
    assert drop["hazards"] == [
        {
            "kind": "destructive",
            "detail": "drops column venue and its data; also drops what depends on it: "
            "policy own_venue on table public.fills, rule _RETURN on view public.venue_list",
        }
    ]
    assert "view public.stale_ids" in changes["public.stale"]["hazards"][0]["detail"]
    refused = run_against(["apply", "-f", str(path), "--yes"], db, scratch_dsn, tmp_path)
    assert refused.code == 3
    args = ["apply", "-f", str(path), "--yes", "--allow", "destructive"]
    applied = run_against(args, db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    left = "SELECT relname FROM pg_class WHERE relname IN ('venue_list', 'stale', 'stale_ids')"
    assert query(db, left) == []
    assert query(db, "SELECT count(*) FROM pg_policy") == [(0,)]


def test_views_are_rebuilt_around_each_type_change_when_the_plan_commits_in_steps(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """SET NOT NULL validates in a transaction of its own, between the two type changes:
    each type change gets the view dropped and created again in its own transaction."""
    run_sql(
        db,
        "CREATE TABLE fills (id integer PRIMARY KEY, qty integer, venue varchar(10));"
        "INSERT INTO fills VALUES (1, 5, 'a');"
        "CREATE VIEW fill_view AS SELECT qty, venue FROM fills;",
    )
    path = tmp_path / "schema.yaml"
    path.write_text(
        SCHEMA.replace("venue: {type: text}", "venue: {type: varchar(20)}").replace(
            "qty: {type: bigint}", "qty: {type: bigint, nullable: false}"
        )
    )
    args = ["apply", "-f", str(path), "--yes", "--allow", "rewrite"]
    applied = run_against(args, db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    kinds = [line.split()[1] for line in applied.stdout.splitlines() if line.startswith("changed:")]
    assert kinds.count("[drop_view]") == 2 and kinds.count("[create_view]") == 2
    assert query(db, "SELECT qty, venue FROM fill_view") == [(5, "a")]


def test_policies_reading_a_retyped_column_are_rebuilt_as_they_were(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    run_sql(
        db,
        "DROP ROLE IF EXISTS mms_trader; CREATE ROLE mms_trader;"
        "CREATE TABLE fills (id integer PRIMARY KEY, qty integer, venue text);"
        "ALTER TABLE fills ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY small_only ON fills AS RESTRICTIVE FOR UPDATE TO mms_trader "
        "USING (qty < 1000) WITH CHECK (qty < 2000);"
        "CREATE POLICY venue_a ON fills USING (venue = 'a');",
    )
    policies = (
        "SELECT policyname, permissive, roles::text[], cmd, qual, with_check "
        "FROM pg_policies ORDER BY 1"
    )
    before = query(db, policies)
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA + "    row_level_security: true\n")
    args = ["apply", "-f", str(path), "--yes", "--allow", "rewrite"]
    applied = run_against(args, db, scratch_dsn, tmp_path)
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "[drop_policy] public.fills.small_only" in applied.stdout
    changed = [line for line in applied.stdout.splitlines() if line.startswith("changed:")]
    assert not any("venue_a" in line for line in changed)  # it reads no retyped column
    assert "unmanaged policy venue_a on public.fills" in applied.stdout  # not declared
    assert query(db, policies) == before
    run_sql(db, "DROP TABLE fills; DROP ROLE mms_trader")
