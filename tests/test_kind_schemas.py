"""Schemas declared under `schemas:`, through the installed command: create, owner, comment,
dump, drop with `state: absent`, an owner role that does not exist."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

OWNER = "mmschema_schema_owner"
FILE = f"""version: 1
schemas:
  billing:
    owner: {OWNER}
    comment: invoices and payments
tables:
  billing.invoices:
    columns:
      id: {{type: bigint}}
"""


def schema_facts(db: str, name: str) -> list[tuple[object, ...]]:
    return query(
        db,
        "SELECT pg_get_userbyid(nspowner)::text, obj_description(oid, 'pg_namespace')"
        " FROM pg_namespace WHERE nspname = %s",
        [name],
    )


@pytest.mark.one_major
def test_a_declared_schema_is_created_owned_commented_dumped_and_dropped(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        f"DO $$BEGIN CREATE ROLE {OWNER}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;",
    )
    shell.write("schema.yaml", FILE)
    assert plan_code(shell, db, scratch_dsn) == 2
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert schema_facts(db, "billing") == [(OWNER, "invoices and payments")]
    assert plan_code(shell, db, scratch_dsn) == 0

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    schemas = yaml.safe_load(dumped.stdout)["schemas"]
    # public holds nothing: declared empty, so that the file manages it
    assert schemas["billing"] == {"owner": OWNER, "comment": "invoices and payments"}
    assert set(schemas) == {"billing", "public"} and "owner" not in schemas["public"]
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0

    shell.write("schema.yaml", "version: 1\nschemas:\n  billing: {state: absent}\n")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "drops schema billing and all it holds: 1 table" in planned.stdout
    refused = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert refused.code == 3, refused.output
    assert schema_facts(db, "billing") != []
    dropped = shell.run(
        "apply", "--yes", "--allow", "destructive", "-d", db, "--dev-database", scratch_dsn
    )
    assert dropped.code == 0, dropped.output
    assert schema_facts(db, "billing") == []
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_an_owner_role_that_does_not_exist_is_one_error_naming_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", "version: 1\nschemas:\n  billing:\n    owner: no_such_role_x\n")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 1, planned.output
    assert "Traceback" not in planned.output
    assert "schema.yaml:4:12: schema billing: owner role 'no_such_role_x'" in planned.stderr
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 1, applied.output
    assert schema_facts(db, "billing") == []


@pytest.mark.one_major
def test_a_table_kept_in_a_schema_marked_absent_is_refused_where_it_is_declared(
    shell: Shell,
) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\nschemas:\n  legacy: {state: absent}\n"
        "tables:\n  legacy.t:\n    columns:\n      id: {type: bigint}\n",
    )
    checked = shell.run("validate")
    assert checked.code == 1, checked.output
    assert "Traceback" not in checked.output
    assert (
        "schema.yaml:5:3: legacy.t is in schema legacy, which the file marks absent"
        " (at schema.yaml:3:3)" in checked.stderr
    )
