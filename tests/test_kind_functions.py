"""Functions and procedures declared under `functions:` and `procedures:`, through the
installed command: plan, apply, dump, errors."""

from __future__ import annotations

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
      total: {type: numeric, default: "tax(0)"}
    primary_key: [id]
    checks:
      total_taxed: tax(total) >= 0
functions:
  tax(amount numeric):
    returns: numeric
    body: SELECT amount * 1.2
    volatility: immutable
    comment: with VAT
  tax(amount numeric, rate numeric):
    returns: numeric
    language: plpgsql
    body: BEGIN RETURN amount * rate; END
  order_count():
    returns: bigint
    body: SELECT count(*) FROM orders
    volatility: stable
    set: {search_path: [public, pg_temp]}
procedures:
  archive(before bigint):
    body: DELETE FROM orders WHERE id < before
"""


def plan_code(shell: Shell, db: str, scratch_dsn: str) -> int:
    outcome = shell.run("plan", "--detailed-exitcode", "-d", db, "--dev-database", scratch_dsn)
    assert "Traceback" not in outcome.output, outcome.output
    assert outcome.code in (0, 2), outcome.output
    return outcome.code


def apply(shell: Shell, db: str, scratch_dsn: str, *extra: str) -> None:
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn, *extra)
    assert applied.code == 0, applied.output


@pytest.mark.one_major
def test_declared_functions_are_created_before_the_tables_calling_them_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", FILE)
    assert plan_code(shell, db, scratch_dsn) == 2
    apply(shell, db, scratch_dsn)
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:
        conn.execute("INSERT INTO orders (id) VALUES (1)")
        assert conn.execute("SELECT total, tax(10, 2) FROM orders").fetchone() == (0, 20)
        conn.execute("CALL archive(5)")

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    assert document["functions"]["tax(amount numeric)"]["comment"] == "with VAT"
    assert "archive(IN before bigint)" in document["procedures"]
    shell.write("schema.yaml", dumped.stdout)  # the dump, as the file, plans nothing
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_changed_body_is_replaced_and_names_the_check_calling_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", FILE)
    apply(shell, db, scratch_dsn)
    shell.write("schema.yaml", FILE.replace("amount * 1.2", "amount * 1.25"))
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    assert planned.code == 0, planned.output
    assert "CREATE OR REPLACE FUNCTION public.tax(amount numeric)" in planned.stdout
    assert "check public.orders.total_taxed" in planned.stdout
    refused = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert refused.code == 3, refused.output
    apply(shell, db, scratch_dsn, "--allow", "destructive")
    assert plan_code(shell, db, scratch_dsn) == 0
    # changed by hand on the target: drift reports it
    run_sql(
        db,
        "CREATE OR REPLACE FUNCTION tax(amount numeric) RETURNS numeric "
        "LANGUAGE sql IMMUTABLE AS 'SELECT amount'",
    )
    drifted = shell.run("drift", "-d", db, "--dev-database", scratch_dsn)
    assert drifted.code == 2, drifted.output
    assert "public.tax(numeric)" in drifted.output


@pytest.mark.one_major
def test_a_changed_result_rebuilds_the_views_and_defaults_calling_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    text = FILE + "views:\n  taxed:\n    query: SELECT id, tax(total) AS taxed FROM orders\n"
    shell.write("schema.yaml", text)
    apply(shell, db, scratch_dsn)
    run_sql(
        db,
        "DO $$BEGIN CREATE ROLE function_reader; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
        "REVOKE ALL ON FUNCTION tax(numeric) FROM PUBLIC;"
        "GRANT EXECUTE ON FUNCTION tax(numeric) TO function_reader;"
        "GRANT SELECT ON taxed TO function_reader;",
    )
    changed = text.replace(
        "returns: numeric\n    body: SELECT amount * 1.2",
        "returns: double precision\n    body: SELECT (amount * 1.2)::float8",
    ).replace("tax(total) >= 0", "tax(total) >= 0::float8")
    shell.write("schema.yaml", changed)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert planned.code == 0, planned.output
    sql_text = planned.stdout
    assert sql_text.index('DROP VIEW IF EXISTS "public"."taxed"') < sql_text.index(
        'DROP FUNCTION "public"."tax"(numeric)'
    )
    apply(shell, db, scratch_dsn, "--allow", "destructive")
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:  # made again with the grants they had
        kept = conn.execute(
            "SELECT has_function_privilege('function_reader', 'tax(numeric)', 'EXECUTE'),"
            " has_function_privilege('public', 'tax(numeric)', 'EXECUTE'),"
            " has_table_privilege('function_reader', 'taxed', 'SELECT')"
        ).fetchone()
        assert kept == (True, False, True)


@pytest.mark.one_major
def test_an_absent_function_is_dropped_after_its_callers(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql AS 'SELECT x * 2';")
    run_sql(db, "CREATE VIEW doubled AS SELECT twice(1) AS two;")
    shell.write("schema.yaml", "version: 1\nfunctions:\n  twice(integer): {state: absent}\n")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert "view public.doubled" in planned.output, planned.output
    refused = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert refused.code == 3, refused.output
    apply(shell, db, scratch_dsn, "--allow", "destructive")
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT to_regprocedure('twice(int)')").fetchone() == (None,)


BAD = """version: 1
functions:
  two_statements(int):
    returns: int
    body: SELECT 1; SELECT 2
  bad_sql(int):
    returns: int
    body: SELEC 1
  bad_returns(int):
    returns: int; DROP TABLE x
    body: SELECT 1
  bad_plpgsql(int):
    returns: int
    language: plpgsql
    body: BEGIN RETRUN 1; END
  f(int) RETURNS int AS 'x'; DROP TABLE t; --:
    returns: int
    body: x
  other(int):
    definition: CREATE FUNCTION g(int) RETURNS int LANGUAGE sql AS 'SELECT 1'
  not_create(int):
    definition: SELECT 1
  dup(x int):
    returns: int
    body: SELECT 1
  dup(integer):
    returns: int
    body: SELECT 2
  no_returns(int):
    body: SELECT 1
  twice(int):
    returns: int
    definition: CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql AS 'SELECT 1'
  odd(int):
    returns: int
    body: SELECT 1
    volatility: sometimes
"""


@pytest.mark.one_major
def test_routine_text_is_checked_before_any_server(shell: Shell) -> None:
    shell.write("schema.yaml", BAD)
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "Traceback" not in outcome.output
    for expected in (
        "schema.yaml:8:11: function public.bad_sql(integer): body is not valid SQL",
        "schema.yaml:10:14: function public.bad_returns(integer): returns is not",
        "schema.yaml:15:11: function public.bad_plpgsql(integer): body is not valid PL/pgSQL",
        "schema.yaml:16:3: function \"f(int) RETURNS int AS 'x'; DROP TABLE t; --\": the key",
        "schema.yaml:20:17: function public.other(integer): definition creates public.g(integer)",
        "schema.yaml:22:17: function public.not_create(integer): definition is not one CREATE",
        "schema.yaml:26:3: public.dup(integer) is declared twice (first at schema.yaml:23:3)",
        "schema.yaml:30:5: function public.no_returns(integer): returns is required",
        "schema.yaml:32:14: function public.twice(integer): returns cannot go with a whole",
        "schema.yaml:37:17: 'volatility' of 'odd(int)' of 'functions' must be volatile,",
    ):
        assert expected in outcome.output, outcome.output
    assert "two_statements" not in outcome.output  # two statements are a valid SQL body


@pytest.mark.one_major
def test_an_overload_replacing_one_the_file_marks_absent_plans(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    # The target's functions are copied to the scratch server for the views that call
    # them; one the file marks absent (or declares anew) must not be, or a call that
    # fits the new overload is ambiguous there.
    run_sql(
        db,
        "CREATE TABLE items (price numeric);"
        "CREATE FUNCTION with_vat(amount numeric) RETURNS numeric"
        " LANGUAGE sql IMMUTABLE AS 'SELECT amount * 1.2';"
        "CREATE VIEW priced AS SELECT with_vat(price) AS gross FROM items;",
    )
    shell.write(
        "schema.yaml",
        """version: 1
tables:
  items:
    columns:
      price: {type: numeric}
functions:
  with_vat(amount numeric, rate numeric DEFAULT 1.21):
    returns: numeric
    body: SELECT amount * rate
    volatility: immutable
  with_vat(numeric): {state: absent}
views:
  priced:
    query: SELECT with_vat(price) AS gross FROM items
""",
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "destructive" not in planned.output  # the view is made again, not lost
    apply(shell, db, scratch_dsn)
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:
        conn.execute("INSERT INTO items VALUES (100)")
        assert conn.execute("SELECT gross FROM priced").fetchone() == (121,)


@pytest.mark.one_major
def test_a_multi_line_body_stays_indented_under_its_step_in_the_text_plan(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\nfunctions:\n  clamp(a integer):\n    returns: integer\n"
        "    language: plpgsql\n    body: |\n      BEGIN\n        IF a > 9 THEN\n"
        "          RETURN 9;\n        END IF;\n        RETURN a;\n      END\n",
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    step = planned.stdout.split("create_function", 1)[1].split("\n\n", 1)[0]
    body = step.splitlines()[1:]
    assert any("RETURN 9;" in line for line in body), planned.stdout
    assert all(line.startswith("      ") for line in body), planned.stdout
