"""Domains, composite and range types declared under `domains:`, `composite_types:` and
`range_types:`, through the installed command: create before the tables using them, dump,
a new domain check validated after a pre-flight count, attributes changed in place, a range
in use refused, unmanaged ones pruned, `state: absent`, bad input."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

TYPES = """version: 1
domains:
  amount:
    type: numeric(12,2)
    default: 0
    nullable: false
    checks:
      positive: VALUE >= 0
  code: {type: text, collation: C}
  email: {type: text, checks: {shape: "VALUE ~ '^[a-z0-9._%+-]+@[a-z0-9.-]+[.][a-z]{2,}$'"}}
composite_types:
  address:
    attributes:
      street: text
      zip: code
range_types:
  floatrange:
    subtype: float8
    subtype_diff: float8mi
tables:
  items:
    columns:
      id: {type: bigint}
      price: {type: amount}
      addr: {type: address}
      span: {type: floatrange}
"""


def apply(shell: Shell, db: str, scratch_dsn: str, *flags: str) -> int:
    outcome = shell.run("apply", "--yes", *flags, "-d", db, "--dev-database", scratch_dsn)
    assert "Traceback" not in outcome.output
    return outcome.code


@pytest.mark.one_major
def test_types_are_made_before_the_tables_using_them_dumped_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", TYPES)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    out = planned.stdout
    assert out.index("create_domain public.code") < out.index("create_composite_type")
    assert out.index("create_range_type public.floatrange") < out.index("create_table")
    assert apply(shell, db, scratch_dsn) == 0
    assert query(db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                 " WHERE attrelid = 'items'::regclass AND attnum > 1 ORDER BY attnum") == [
        ("amount",), ("address",), ("floatrange",)
    ]
    assert plan_code(shell, db, scratch_dsn) == 0

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    assert document["domains"]["amount"] == {
        "type": "numeric(12,2)",
        "default": "0",
        "nullable": False,
        "checks": {"positive": "(VALUE >= (0)::numeric)"},
    }
    assert document["domains"]["code"] == {"type": "text", "collation": "C"}
    # Longer than a name (63 bytes): read whole.
    assert document["domains"]["email"]["checks"] == {
        "shape": "(VALUE ~ '^[a-z0-9._%+-]+@[a-z0-9.-]+[.][a-z]{2,}$'::text)"
    }
    assert document["composite_types"] == {"address": {"attributes": {"street": "text",
                                                                      "zip": "code"}}}
    assert document["range_types"] == {
        "floatrange": {"subtype": "double precision", "subtype_diff": "float8mi"}
    }
    assert "functions" not in document  # the range's own constructors are not written
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_new_domain_check_counts_the_values_it_rejects_then_validates(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", TYPES)
    assert apply(shell, db, scratch_dsn) == 0
    run_sql(db, "INSERT INTO items (id, price) VALUES (1, 5), (2, 50)")
    shell.write("schema.yaml", TYPES.replace(
        "      positive: VALUE >= 0\n", "      positive: VALUE >= 0\n      small: VALUE < 10\n"
    ))
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert 'ADD CONSTRAINT "small" CHECK (VALUE < 10) NOT VALID' in planned.stdout
    assert "validate_domain_check public.amount.small  lock: SHARE" in planned.stdout
    assert (
        "hazard may_fail: 1 value of public.items.price breaks check small of domain "
        "public.amount; list them with: SELECT * FROM" in planned.stdout
    )
    assert apply(shell, db, scratch_dsn) == 3
    assert query(db, "SELECT count(*) FROM pg_constraint WHERE conname = 'small'") == [(0,)]

    run_sql(db, "UPDATE items SET price = 9 WHERE price >= 10")
    rehearsed = shell.run("plan", "--rehearse", "-d", db, "--dev-database", scratch_dsn)
    assert rehearsed.code == 0, rehearsed.output
    assert "predicted SHARE; measured SHARE on public.items" in rehearsed.stdout
    assert (
        "hazard blocking: validating check small of domain public.amount reads every row of "
        "public.items under a SHARE lock: writes wait" in rehearsed.stdout
    )
    assert apply(shell, db, scratch_dsn) == 3
    assert apply(shell, db, scratch_dsn, "--allow", "blocking") == 0
    assert query(db, "SELECT convalidated FROM pg_constraint WHERE conname = 'small'") == [
        (True,)
    ]
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_attributes_change_in_place_and_a_range_in_use_is_refused(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", TYPES)
    assert apply(shell, db, scratch_dsn) == 0
    run_sql(db, "INSERT INTO items (id, price, addr) VALUES (1, 1, ROW('Main St', '1000'))")
    changed = TYPES.replace(
        "      street: text\n      zip: code\n", "      zip: code\n      city: text\n"
    )
    shell.write("schema.yaml", changed)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert 'ALTER TYPE "public"."address" DROP ATTRIBUTE "street", ADD ATTRIBUTE "city" text' in (
        planned.stdout
    )
    assert "drops attribute street of public.address" in planned.stdout
    assert apply(shell, db, scratch_dsn) == 3  # destructive
    assert apply(shell, db, scratch_dsn, "--allow", "destructive") == 0
    assert query(db, "SELECT (addr).zip::text, (addr).city FROM items") == [("1000", None)]
    assert plan_code(shell, db, scratch_dsn) == 0

    shell.write("schema.yaml", changed.replace("    subtype_diff: float8mi\n", ""))
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert (
        "hazard may_fail: range type public.floatrange: a changed range type means DROP TYPE "
        "and CREATE TYPE, and it is used by column public.items.span" in planned.stdout
    )
    assert apply(shell, db, scratch_dsn, "--allow", "destructive") == 3
    assert query(db, "SELECT rngsubdiff::regproc::text FROM pg_range"
                 " WHERE rngtypid = 'floatrange'::regtype") == [("float8mi",)]


@pytest.mark.one_major
def test_unmanaged_types_are_listed_and_pruned_and_absent_ones_dropped(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE DOMAIN stray AS int; CREATE TYPE stray_pair AS (a int, b int)")
    shell.write("schema.yaml", TYPES)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert "unmanaged domain public.stray" in planned.stdout
    assert "unmanaged composite type public.stray_pair" in planned.stdout
    assert apply(shell, db, scratch_dsn, "--prune", "--allow", "destructive") == 0
    assert query(db, "SELECT typname FROM pg_type WHERE typname LIKE 'stray%%'") == []

    shell.write(
        "schema.yaml",
        "version: 1\ndomains:\n  amount: {state: absent}\n  code: {type: text, collation: C}\n"
        "composite_types:\n  address: {state: absent}\nrange_types:\n  floatrange: "
        "{state: absent}\ntables:\n  items: {state: absent}\n",
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert "drop_domain public.amount" in planned.stdout
    assert planned.stdout.index("drop_table public.items") < planned.stdout.index("drop_domain")
    assert apply(shell, db, scratch_dsn) == 3
    assert apply(shell, db, scratch_dsn, "--allow", "destructive") == 0
    assert query(db, "SELECT typname FROM pg_type WHERE typname IN"
                 " ('amount', 'address', 'floatrange')") == []
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_bad_type_declarations_are_one_error_at_their_place(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ndomains:\n  amount:\n    type: numeric(12,2)\n"
        "    checks:\n      positive: VALUE >= 0); DROP TABLE x; --\n",
    )
    checked = shell.run("validate")
    assert checked.code == 1, checked.output
    assert "Traceback" not in checked.output
    assert "schema.yaml:6:17: domain public.amount: check positive" in checked.stderr

    shell.write(
        "schema.yaml",
        "version: 1\ncomposite_types:\n  pair:\n    attributes:\n      a: no_such_type\n",
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 1, planned.output
    assert "Traceback" not in planned.output
    assert "schema.yaml:3:3: composite type public.pair:" in planned.stderr
    assert 'type "no_such_type" does not exist' in planned.stderr


@pytest.mark.one_major
def test_migrations_creating_types_are_imported(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write(
        "m/001.sql",
        "CREATE DOMAIN amount AS numeric(12,2) CHECK (VALUE >= 0);\n"
        "CREATE TYPE pair AS (base text, quote text);\n"
        "CREATE TYPE pricerange AS RANGE (subtype = float8);\n"
        "CREATE TABLE fills (id bigint PRIMARY KEY, price amount, pair pair, span pricerange);\n"
        "ALTER DOMAIN amount SET NOT NULL;\n"
        "ALTER TYPE pair ADD ATTRIBUTE venue text;\n",
    )
    imported = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert imported.code == 0, imported.output
    assert "left out" not in imported.output
    document = yaml.safe_load(shell.path("schema.yaml").read_text())
    assert document["domains"]["amount"]["nullable"] is False
    assert list(document["composite_types"]["pair"]["attributes"]) == ["base", "quote", "venue"]
    assert list(document["range_types"]) == ["pricerange"]
    assert apply(shell, db, scratch_dsn) == 0
    assert plan_code(shell, db, scratch_dsn) == 0
