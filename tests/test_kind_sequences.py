"""Sequences declared under `sequences:`, through the installed command: create before the
tables calling them, dump, change, position never compared, unmanaged ones, drop, import."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

FILE = """version: 1
sequences:
  order_numbers:
    as: integer
    start: 1000
    cache: 5
    owned_by: orders.number
  billing.invoice_numbers: {increment: -1}
tables:
  orders:
    columns:
      id: {type: bigserial}
      ref: {type: bigint, identity: always}
      number: {type: integer, nullable: false, default: "nextval('order_numbers')"}
  billing.invoices:
    columns:
      n: {type: bigint, default: "nextval('billing.invoice_numbers')"}
"""
FACTS = """SELECT schemaname || '.' || sequencename, data_type::text, start_value, min_value,
       max_value, increment_by, cycle, cache_size
  FROM pg_sequences WHERE schemaname IN ('public', 'billing') ORDER BY 1"""
OWNER = """SELECT d.refobjid::regclass::text, a.attname::text
  FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
 WHERE d.objid = 'order_numbers'::regclass AND d.deptype = 'a'"""


@pytest.mark.one_major
def test_declared_sequences_are_created_first_dumped_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", FILE)
    assert plan_code(shell, db, scratch_dsn) == 2
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert query(db, FACTS) == [
        ("billing.invoice_numbers", "bigint", -1, -(2**63), -1, -1, False, 1),
        ("public.order_numbers", "integer", 1000, 1, 2**31 - 1, 1, False, 5),
        ("public.orders_id_seq", "bigint", 1, 1, 2**63 - 1, 1, False, 1),
        ("public.orders_ref_seq", "bigint", 1, 1, 2**63 - 1, 1, False, 1),
    ]
    assert query(db, OWNER) == [("orders", "number")]
    run_sql(db, "INSERT INTO orders DEFAULT VALUES; INSERT INTO orders DEFAULT VALUES")
    assert query(db, "SELECT number FROM orders ORDER BY 1") == [(1000,), (1001,)]
    # The position moved: not a difference.
    assert plan_code(shell, db, scratch_dsn) == 0

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    # A serial's and an identity's sequences are their columns': not listed here.
    assert document["sequences"] == {
        "billing.invoice_numbers": {"increment": -1},
        "order_numbers": {"as": "integer", "start": 1000, "cache": 5, "owned_by": "orders.number"},
    }
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_changed_options_are_altered_in_place_keeping_the_position(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", FILE)
    assert shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn).code == 0
    run_sql(db, "INSERT INTO orders DEFAULT VALUES")
    changed = FILE.replace("as: integer", "as: bigint").replace("cache: 5", "cache: 1")
    shell.write("schema.yaml", changed)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert planned.code == 0, planned.output
    assert (
        'ALTER SEQUENCE "public"."order_numbers" AS bigint MINVALUE 1'
        " MAXVALUE 9223372036854775807 CACHE 1;" in planned.stdout
    )
    assert "DROP SEQUENCE" not in planned.stdout
    assert shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn).code == 0
    assert plan_code(shell, db, scratch_dsn) == 0
    run_sql(db, "INSERT INTO orders DEFAULT VALUES")
    # Not started again: past the first value (and the 5 the first session cached).
    assert query(db, "SELECT max(number) > 1000 FROM orders") == [(True,)]


@pytest.mark.one_major
def test_an_undeclared_sequence_is_reported_and_dropped_only_with_prune(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE SEQUENCE stray; CREATE SEQUENCE called")
    run_sql(db, "CREATE TABLE t (id serial, c bigint DEFAULT nextval('called'))")
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: serial}\n"
        "      c: {type: bigint, default: \"nextval('called')\"}\n",
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "unmanaged sequence public.stray (kept; --prune drops it)" in planned.stdout
    assert "called" not in planned.stdout.replace("nextval('called')", "")
    assert "t_id_seq" not in planned.stdout
    drift = shell.run("drift", "-d", db, "--dev-database", scratch_dsn)
    assert drift.code == 2, drift.output
    refused = shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert refused.code == 3, refused.output
    pruned = shell.run(
        "apply", "--yes", "--prune", "--allow", "destructive", "-d", db,
        "--dev-database", scratch_dsn,
    )  # fmt: skip
    assert pruned.code == 0, pruned.output
    names = "SELECT sequencename::text FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
    assert query(db, names) == [("called",), ("t_id_seq",)]
    drift = shell.run("drift", "-d", db, "--dev-database", scratch_dsn)
    assert drift.code == 0, drift.output


@pytest.mark.one_major
def test_state_absent_drops_the_sequence_after_the_default_calling_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE SEQUENCE numbers; CREATE TABLE t (n bigint DEFAULT nextval('numbers'))")
    shell.write(
        "schema.yaml",
        "version: 1\nsequences:\n  numbers: {state: absent}\n"
        "tables:\n  t:\n    columns:\n      n: {type: bigint}\n",
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert "drops sequence public.numbers, its position is lost" in planned.stdout, planned.output
    refused = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert refused.code == 3, refused.output
    dropped = shell.run(
        "apply", "--yes", "--allow", "destructive", "-d", db, "--dev-database", scratch_dsn
    )
    assert dropped.code == 0, dropped.output
    assert query(db, "SELECT count(*) FROM pg_sequences WHERE sequencename = 'numbers'") == [(0,)]
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_options_create_sequence_would_refuse_are_refused_at_their_place(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\nsequences:\n  a: {min: 10, max: 5}\n  b: {as: smallint, max: 100000}\n"
        "  c: {start: 0}\n  d: {owned_by: nocolumn}\n  e: {increment: 0}\n  f: {as: int}\n",
    )
    checked = shell.run("validate")
    assert checked.code == 1, checked.output
    assert "Traceback" not in checked.output
    for line in (
        "schema.yaml:3:12: sequence public.a: min (10) must be less than max (5)",
        "schema.yaml:4:26: sequence public.b: max 100000 is out of range for a sequence of"
        " type smallint",
        "schema.yaml:5:14: sequence public.c: start (0) must be between min (1) and max",
        "schema.yaml:6:17: sequence public.d: owned_by 'nocolumn' is not table.column",
        "schema.yaml:7:18: sequence public.e: increment must not be 0",
        "schema.yaml:8:11: 'as' of 'f' of 'sequences' must be smallint, integer or bigint",
    ):
        assert line in checked.stderr, checked.stderr


@pytest.mark.one_major
def test_create_sequence_in_migrations_is_imported(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write(
        "m/001.sql",
        "CREATE SEQUENCE tickets START 100 INCREMENT 10;\n"
        "CREATE SEQUENCE gone;\n"
        "CREATE TABLE t (id serial, n bigint DEFAULT nextval('tickets'));\n"
        "ALTER SEQUENCE tickets CACHE 3;\nDROP SEQUENCE gone;\n",
    )
    imported = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert imported.code == 0, imported.output
    document = yaml.safe_load(shell.path("schema.yaml").read_text())
    assert document["sequences"] == {"tickets": {"increment": 10, "start": 100, "cache": 3}}
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert query(db, "SELECT nextval('tickets')") == [(100,)]
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_declared_sequence_takes_grants_and_dumps_them(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "DO $$BEGIN CREATE ROLE mmschema_seq_reader; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END$$;",
    )
    shell.write(
        "schema.yaml",
        "version: 1\nsequences:\n  tickets:\n    start: 10\n    grants:\n"
        "      - {role: mmschema_seq_reader, privileges: [USAGE, SELECT]}\n",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    granted = "SELECT has_sequence_privilege('mmschema_seq_reader', 'tickets', 'USAGE')"
    assert query(db, granted) == [(True,)]
    assert plan_code(shell, db, scratch_dsn) == 0
    dumped = shell.run("dump", "-d", db)
    assert yaml.safe_load(dumped.stdout)["sequences"]["tickets"] == {
        "start": 10,
        "grants": [{"role": "mmschema_seq_reader", "privileges": ["SELECT", "USAGE"]}],
    }


@pytest.mark.one_major
def test_a_sequence_named_like_a_serials_is_refused_at_its_place(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: serial}\n"
        "      n: {type: integer}\n"
        "sequences:\n  t_id_seq: {cache: 5}\n  other: {owned_by: t.nocolumn}\n",
    )
    checked = shell.run("validate")
    assert checked.code == 1, checked.output
    assert "Traceback" not in checked.output
    assert (
        "schema.yaml:8:3: sequence public.t_id_seq is the sequence of serial column t.id"
        in checked.stderr
    ), checked.stderr
    assert "schema.yaml:9:21: sequence public.other: owned_by t.nocolumn: table public.t has no " \
        "column nocolumn" in checked.stderr, checked.stderr


@pytest.mark.one_major
def test_owned_by_a_missing_table_is_refused_by_plan(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", "version: 1\nsequences:\n  s: {owned_by: nowhere.id}\n")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 1, planned.output
    assert "Traceback" not in planned.output
    assert (
        "schema.yaml:3:17: sequence public.s: owned_by nowhere.id: table public.nowhere is "
        "neither in the file nor in the database" in planned.stderr
    ), planned.output
    run_sql(db, "CREATE TABLE nowhere (id bigint)")
    assert shell.run("plan", "-d", db, "--dev-database", scratch_dsn).code == 0


@pytest.mark.one_major
def test_odd_names_are_dumped_as_keys_the_file_reads_back(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """Tables and sequences spell their keys alike: a part is quoted where the file needs
    it (a dot, a double quote, white space), so the dump plans no change."""
    run_sql(
        db,
        """CREATE SCHEMA "odd.s";
        CREATE TABLE " padded" (id int);
        CREATE TABLE "odd.s"."x y" (id int);
        CREATE SEQUENCE "a""b";
        CREATE SEQUENCE "odd.s"." padded";
        CREATE SEQUENCE plain_one""",
    )
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    assert sorted(document["tables"]) == ['"odd.s"."x y"', 'public." padded"']
    assert sorted(document["sequences"]) == ['"odd.s"." padded"', "plain_one", 'public."a""b"']
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_serial_column_adopts_the_standalone_sequence_its_default_calls(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """The file says serial; the database has the same default over a sequence no column
    owns (as migra's seq fixture): the plan makes the column own it, as serial would."""
    run_sql(
        db,
        "CREATE SEQUENCE test2_id_seq;"  # AS bigint: serial's is an integer one
        "CREATE TABLE test2 (id integer NOT NULL DEFAULT nextval('test2_id_seq'::regclass));"
        "CREATE SEQUENCE other_seq;"
        "CREATE TABLE kept (id integer NOT NULL DEFAULT nextval('other_seq'));",
    )
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  test2:\n    columns:\n      id: {type: serial}\n"
        "  kept:\n    columns:\n      id: {type: serial}\n",
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert 'ALTER SEQUENCE "public"."test2_id_seq" OWNED BY "public"."test2"."id"' in (
        planned.stdout
    ), planned.output
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    owner = OWNER.replace("order_numbers", "test2_id_seq")
    assert query(db, owner) == [("test2", "id")]
    facts = {row[0]: row[1:] for row in query(db, FACTS)}
    assert facts["public.test2_id_seq"] == ("integer", 1, 1, 2**31 - 1, 1, False, 1)
    dumped = yaml.safe_load(shell.run("dump", "-d", db).stdout)
    assert dumped["tables"]["test2"]["columns"]["id"] == {"type": "serial"}
