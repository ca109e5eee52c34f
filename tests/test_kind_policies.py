"""Row level security policies under `policies:`, through the installed command: plan, apply,
dump, changes, unmanaged ones, missing roles."""

from __future__ import annotations

import json

import psycopg
import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

BEFORE = """
DROP ROLE IF EXISTS mms_clerk; CREATE ROLE mms_clerk;
CREATE TABLE orders (id bigint PRIMARY KEY, owner text, total numeric);
"""
FILE = """version: 1
tables:
  orders:
    columns:
      id: {type: bigint, nullable: false}
      owner: {type: text}
      total: {type: numeric}
    primary_key: [id]
    row_level_security: true
policies:
  orders.own_rows:
    roles: [mms_clerk]
    using: owner = current_user
    with_check: owner = current_user AND total >= 0
  orders.no_big_deletes:
    command: delete
    restrictive: true
    using: total < 1000
"""
POLICIES = (
    "SELECT policyname, permissive, roles::text[], cmd, qual, with_check "
    "FROM pg_policies WHERE tablename = 'orders' ORDER BY 1"
)


def changes_of(shell: Shell, db: str, scratch_dsn: str, *extra: str) -> list[dict[str, object]]:
    planned = shell.run(
        "plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json", *extra
    )
    assert planned.code == 0, planned.output
    found: list[dict[str, object]] = json.loads(planned.stdout)["changes"]
    return found


def apply(shell: Shell, db: str, scratch_dsn: str, *extra: str) -> None:
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn, *extra)
    assert applied.code == 0, applied.output


@pytest.mark.one_major
def test_declared_policies_are_made_dumped_changed_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    assert plan_code(shell, db, scratch_dsn) == 2
    apply(shell, db, scratch_dsn)
    assert plan_code(shell, db, scratch_dsn) == 0
    assert query(db, POLICIES) == [
        ("no_big_deletes", "RESTRICTIVE", ["public"], "DELETE", "(total < (1000)::numeric)", None),
        (
            "own_rows",
            "PERMISSIVE",
            ["mms_clerk"],
            "ALL",
            "(owner = CURRENT_USER)",
            "((owner = CURRENT_USER) AND (total >= (0)::numeric))",
        ),
    ]

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    section = yaml.safe_load(dumped.stdout)["policies"]
    assert section == {
        "orders.no_big_deletes": {
            "command": "delete",
            "restrictive": True,
            "using": "(total < (1000)::numeric)",
        },
        "orders.own_rows": {
            "roles": ["mms_clerk"],
            "using": "(owner = CURRENT_USER)",
            "with_check": "((owner = CURRENT_USER) AND (total >= (0)::numeric))",
        },
    }
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0

    # Roles and USING change in place; a new command is a drop and create.
    changed = FILE.replace("roles: [mms_clerk]", "roles: [public]")
    changed = changed.replace("using: owner = current_user\n", "using: owner = session_user\n")
    changed = changed.replace("command: delete", "command: update")
    shell.write("schema.yaml", changed)
    found = changes_of(shell, db, scratch_dsn)
    assert [(c["kind"], c["object"]) for c in found] == [
        ("alter_policy", "public.orders.own_rows"),
        ("replace_policy", "public.orders.no_big_deletes"),
    ]
    assert found[0]["sql"] == [
        'ALTER POLICY "own_rows" ON "public"."orders" TO PUBLIC'
        " USING ((owner = SESSION_USER))"
    ]
    assert found[0]["lock"] == "ACCESS EXCLUSIVE"
    apply(shell, db, scratch_dsn)
    assert plan_code(shell, db, scratch_dsn) == 0

    # Renamed in place; state: absent drops.
    renamed = changed.replace("orders.own_rows:", "orders.own:\n    renamed_from: own_rows")
    renamed = renamed.replace(
        "  orders.no_big_deletes:\n    command: update\n    restrictive: true\n"
        "    using: total < 1000\n",
        "  orders.no_big_deletes: {state: absent}\n",
    )
    shell.write("schema.yaml", renamed)
    found = changes_of(shell, db, scratch_dsn)
    assert [(c["kind"], c["object"]) for c in found] == [
        ("drop_policy", "public.orders.no_big_deletes"),
        ("rename_policy", "public.orders.own"),
    ]
    apply(shell, db, scratch_dsn)
    assert plan_code(shell, db, scratch_dsn) == 0
    assert [r[0] for r in query(db, POLICIES)] == ["own"]
    run_sql(db, "DROP TABLE orders; DROP ROLE mms_clerk")


@pytest.mark.one_major
def test_undeclared_policies_are_left_alone_reported_and_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE + "CREATE POLICY theirs ON orders USING (total > 0);")
    without = FILE.split("policies:")[0]
    shell.write("schema.yaml", without)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    assert planned.code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert [c["kind"] for c in plan["changes"]] == ["set_table_option"]  # ENABLE RLS
    assert "policy theirs on public.orders" in json.dumps(plan["unmanaged"])
    drift = shell.run("drift", "-d", db)
    assert drift.code == 2, drift.output
    assert "policy theirs on public.orders" in drift.output
    apply(shell, db, scratch_dsn)
    assert [r[0] for r in query(db, POLICIES)] == ["theirs"]
    apply(shell, db, scratch_dsn, "--prune", "--allow", "destructive")
    assert query(db, POLICIES) == []
    run_sql(db, "DROP TABLE orders; DROP ROLE mms_clerk")


@pytest.mark.one_major
def test_a_role_the_target_lacks_is_one_error_naming_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE.replace("[mms_clerk]", "[mms_clerk, mms_nobody]"))
    for command in (["plan"], ["apply", "--yes"]):
        outcome = shell.run(*command, "-d", db, "--dev-database", scratch_dsn)
        assert outcome.code == 1, outcome.output
        assert "Traceback" not in outcome.output
        assert (
            "schema.yaml:12:12: policy public.orders.own_rows: role 'mms_nobody' does not "
            "exist on the target"
        ) in outcome.output
    assert query(db, POLICIES) == []
    run_sql(db, "DROP TABLE orders; DROP ROLE mms_clerk")


@pytest.mark.one_major
def test_using_that_is_not_one_expression_is_refused_before_any_server(shell: Shell) -> None:
    shell.write("schema.yaml", FILE.replace("total < 1000", "true); DROP TABLE orders; --"))
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:18:12: using of policy orders.no_big_deletes" in outcome.output
    assert "Traceback" not in outcome.output
    shell.write("schema.yaml", FILE.replace("orders.own_rows:", "own_rows:"))
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:11:3: policy 'own_rows' is not table.policy" in outcome.output


def test_a_type_change_under_a_declared_policy_converges(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    apply(shell, db, scratch_dsn)
    shell.write("schema.yaml", FILE.replace("total: {type: numeric}", "total: {type: bigint}"))
    found = changes_of(shell, db, scratch_dsn)
    assert found[0]["kind"] == "drop_policy"
    apply(shell, db, scratch_dsn, "--allow", "rewrite,destructive")
    assert plan_code(shell, db, scratch_dsn) == 0
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT qual FROM pg_policies WHERE policyname = 'no_big_deletes'"
        ).fetchone()
        assert row == ("(total < 1000)",)
    run_sql(db, "DROP TABLE orders; DROP ROLE mms_clerk")


def test_a_policy_changed_with_the_type_of_a_column_it_reads_is_made_as_declared(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    apply(shell, db, scratch_dsn)
    # The old USING (total < 1000::numeric) does not fit a text column: made as the file says.
    changed = FILE.replace("total: {type: numeric}", "total: {type: text}")
    changed = changed.replace("using: total < 1000", "using: length(total) < 4")
    changed = changed.replace("total >= 0", "total <> ''")
    shell.write("schema.yaml", changed)
    found = changes_of(shell, db, scratch_dsn)
    assert [c["kind"] for c in found] == [
        "drop_policy",
        "drop_policy",
        "alter_column_type",
        "create_policy",
        "create_policy",
    ]
    assert "length(total)" in json.dumps([found[-1]["sql"], found[-2]["sql"]])
    apply(shell, db, scratch_dsn, "--allow", "rewrite,destructive")
    assert plan_code(shell, db, scratch_dsn) == 0
    run_sql(db, "DROP TABLE orders; DROP ROLE mms_clerk")


@pytest.mark.one_major
def test_a_rehearsal_copies_and_changes_the_policies(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    apply(shell, db, scratch_dsn)
    shell.write("schema.yaml", FILE.replace("total < 1000", "total < 500"))
    apply(shell, db, scratch_dsn, "--rehearse")
    assert query(db, "SELECT qual FROM pg_policies WHERE policyname = 'no_big_deletes'") == [
        ("(total < (500)::numeric)",)
    ]
    run_sql(db, "DROP TABLE orders; DROP ROLE mms_clerk")


@pytest.mark.one_major
def test_declared_policies_move_with_a_renamed_table(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "CREATE TABLE ledger (id integer); CREATE POLICY positive ON ledger USING (id > 0);"
        "CREATE POLICY small ON ledger USING (id < 10);",
    )
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  entries:\n    renamed_from: ledger\n    columns:\n"
        "      id: {type: integer}\npolicies:\n  entries.positive:\n    using: id > 0\n"
        "  entries.small:\n    using: id < 100\n",
    )
    found = changes_of(shell, db, scratch_dsn)
    assert [(c["kind"], c["object"]) for c in found] == [
        ("rename_table", "public.entries"),
        ("alter_policy", "public.entries.small"),
    ]
    apply(shell, db, scratch_dsn)
    assert plan_code(shell, db, scratch_dsn) == 0
    assert query(db, "SELECT policyname, qual FROM pg_policies ORDER BY 1") == [
        ("positive", "(id > 0)"),
        ("small", "(id < 100)"),
    ]
