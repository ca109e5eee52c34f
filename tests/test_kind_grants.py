"""Owners and grants on tables, columns, views, sequences, functions and schemas, through
the installed command: granted, dumped, kept across rebuilds, undeclared ones unmanaged
until --prune, revoked with state: absent, a role the target lacks refused."""

from __future__ import annotations

import json
import secrets
from typing import Any

import psycopg
import pytest
import yaml
from psycopg.conninfo import make_conninfo

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

RO, RW, OWNER = "mms_grant_ro", "mms_grant_rw", "mms_grant_owner"
ROLES = "".join(
    f"DO $$BEGIN CREATE ROLE {r}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;\n"
    for r in (RO, RW, OWNER)
)
FILE = f"""version: 1
schemas:
  app:
    grants:
      - {{role: {RO}, privileges: [USAGE]}}
tables:
  app.orders:
    owner: {OWNER}
    columns:
      id: {{type: bigint, identity: always}}
      total: {{type: numeric}}
      secret: {{type: text}}
    primary_key: [id]
    grants:
      - {{role: {RO}, privileges: [SELECT], columns: [id, total]}}
      - {{role: {RW}, privileges: [select, insert, update], with_grant_option: true}}
views:
  app.big_orders:
    query: SELECT id, total FROM app.orders WHERE total > 100
    grants:
      - {{role: {RO}, privileges: [SELECT]}}
functions:
  app.order_count():
    returns: bigint
    language: sql
    body: SELECT count(*) FROM app.orders
    grants:
      - {{role: {RO}, privileges: [EXECUTE]}}
"""


def acl(db: str, sql_text: str) -> list[tuple[Any, ...]]:
    return query(db, sql_text)


def plan_json(shell: Shell, db: str, scratch_dsn: str, *extra: str) -> dict[str, Any]:
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json", *extra)
    assert planned.code == 0, planned.output
    data: dict[str, Any] = json.loads(planned.stdout)
    return data


@pytest.mark.one_major
def test_grants_and_owners_are_applied_dumped_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write("schema.yaml", FILE)
    plan = plan_json(shell, db, scratch_dsn)
    granted = [c for c in plan["changes"] if c["kind"] in ("set_privileges", "set_owner")]
    statements = [s for c in granted for s in c["sql"]]
    assert f'ALTER TABLE "app"."orders" OWNER TO "{OWNER}"' in statements
    assert f'GRANT SELECT ("id", "total") ON TABLE "app"."orders" TO "{RO}"' in statements
    assert (
        f'GRANT SELECT, INSERT, UPDATE ON TABLE "app"."orders" TO "{RW}" WITH GRANT OPTION'
        in statements
    )
    # A function the plan makes: EXECUTE for PUBLIC only if the file grants it.
    assert 'REVOKE EXECUTE ON FUNCTION "app"."order_count"() FROM PUBLIC' in statements
    assert f'GRANT USAGE ON SCHEMA "app" TO "{RO}"' in statements

    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert acl(
        db,
        f"SELECT has_column_privilege('{RO}', 'app.orders', 'total', 'SELECT'),"
        f" has_column_privilege('{RO}', 'app.orders', 'secret', 'SELECT'),"
        f" has_function_privilege('{RO}', 'app.order_count()', 'EXECUTE'),"
        f" has_function_privilege('public', 'app.order_count()', 'EXECUTE'),"
        f" pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = 'app.orders'::regclass",
    ) == [(True, False, True, False, OWNER)]

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    orders = document["tables"]["app.orders"]
    assert orders["owner"] == OWNER
    assert {"role": RO, "privileges": ["SELECT"], "columns": ["id", "total"]} in orders["grants"]
    assert {
        "role": RW,
        "privileges": ["SELECT", "INSERT", "UPDATE"],
        "with_grant_option": True,
    } in orders["grants"]
    assert document["functions"]["app.order_count()"]["grants"] == [
        {"role": RO, "privileges": ["EXECUTE"]}
    ]
    assert document["schemas"]["app"]["grants"] == [{"role": RO, "privileges": ["USAGE"]}]
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_undeclared_grants_are_unmanaged_until_prune_and_absent_ones_are_revoked(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write("schema.yaml", FILE)
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    run_sql(db, f"GRANT DELETE ON app.orders TO {RO}; GRANT SELECT ON app.big_orders TO {RW}")

    plan = plan_json(shell, db, scratch_dsn)
    assert plan["changes"] == []
    assert sorted(plan["unmanaged"]) == [
        f"grant DELETE on table app.orders to {RO}",
        f"grant SELECT on view app.big_orders to {RW}",
    ]
    drift = shell.run("drift", "-d", db, "--dev-database", scratch_dsn)
    assert drift.code == 2, drift.output

    # A file that gives no grants for an object leaves them alone.
    unmentioned = FILE.replace(f"    grants:\n      - {{role: {RO}, privileges: [SELECT]}}\n", "")
    shell.write("schema.yaml", unmentioned)
    plan = plan_json(shell, db, scratch_dsn)
    assert plan["unmanaged"] == [f"grant DELETE on table app.orders to {RO}"]

    shell.write("schema.yaml", FILE)
    pruned = shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert pruned.code == 0, pruned.output
    assert acl(
        db,
        f"SELECT has_table_privilege('{RO}', 'app.orders', 'DELETE'),"
        f" has_table_privilege('{RW}', 'app.big_orders', 'SELECT')",
    ) == [(False, False)]

    revoking = FILE.replace(
        "with_grant_option: true}",
        f"with_grant_option: true}}\n      - {{role: {RW}, privileges: [UPDATE], state: absent}}",
    ).replace("[select, insert, update]", "[select, insert]")
    shell.write("schema.yaml", revoking)
    plan = plan_json(shell, db, scratch_dsn)
    [change] = plan["changes"]
    assert change["sql"] == [f'REVOKE UPDATE ON TABLE "app"."orders" FROM "{RW}"']
    assert change["lock"] == "NONE" or change["lock"] is None or change["lock"] == ""
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_role_the_target_lacks_is_one_error_naming_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write("schema.yaml", FILE.replace(f"role: {RW}", "role: mms_no_such_role"))
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 1, planned.output
    assert "Traceback" not in planned.output
    [line] = [x for x in planned.output.splitlines() if "mms_no_such_role" in x]
    assert line.startswith("schema.yaml:16:16:")
    assert "role 'mms_no_such_role' does not exist on the target" in line
    assert query(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'") == [(0,)]


@pytest.mark.one_major
def test_a_privilege_that_does_not_apply_is_refused_at_its_place(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", FILE.replace("privileges: [EXECUTE]", "privileges: [SELECT]"))
    checked = shell.run("validate")
    assert checked.code == 1, checked.output
    assert "schema.yaml:28:43:" in checked.output
    assert "privilege SELECT does not apply to function app.order_count()" in checked.output


@pytest.mark.one_major
def test_a_rebuilt_view_keeps_its_grants_and_gets_the_declared_ones(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write("schema.yaml", FILE)
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    # Columns other than appended ones: the view is dropped and made again.
    rebuilt = FILE.replace("SELECT id, total FROM", "SELECT total, id FROM").replace(
        f"      - {{role: {RO}, privileges: [SELECT]}}\nfunctions",
        f"      - {{role: {RO}, privileges: [SELECT]}}\n"
        f"      - {{role: {RW}, privileges: [SELECT]}}\nfunctions",
    )
    shell.write("schema.yaml", rebuilt)
    plan = plan_json(shell, db, scratch_dsn)
    assert [c["kind"] for c in plan["changes"]] == ["rebuild_view", "set_privileges"]
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert acl(
        db,
        f"SELECT has_table_privilege('{RO}', 'app.big_orders', 'SELECT'),"
        f" has_table_privilege('{RW}', 'app.big_orders', 'SELECT')",
    ) == [(True, True)]
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_rebuilt_materialized_view_keeps_its_owner_and_grants(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        ROLES
        + "CREATE TABLE t (id bigint);"
        + "CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n FROM t;"
        + f"ALTER MATERIALIZED VIEW totals OWNER TO {OWNER};"
        + f"GRANT SELECT ON totals TO {RO};",
    )
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: bigint}\n"
        "materialized_views:\n  totals:\n    query: SELECT count(*) + 1 AS n FROM t\n",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert "rebuild" in applied.output
    assert acl(
        db,
        f"SELECT pg_get_userbyid(relowner)::text, has_table_privilege('{RO}', oid, 'SELECT')"
        " FROM pg_class WHERE relname = 'totals'",
    ) == [(OWNER, True)]


DEFAULTS = f"""version: 1
schemas:
  app:
    grants:
      - {{role: {OWNER}, privileges: [ALL]}}
default_privileges:
  {OWNER}:
    functions:
      - {{role: {RO}, privileges: [EXECUTE]}}
    in_schema:
      app:
        tables:
          - {{role: {RO}, privileges: [SELECT]}}
          - {{role: {RW}, privileges: [ALL], with_grant_option: true}}
"""


@pytest.mark.one_major
def test_default_privileges_are_granted_dumped_unmanaged_and_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write("schema.yaml", DEFAULTS)
    plan = plan_json(shell, db, scratch_dsn)
    statements = [s for c in plan["changes"] for s in c["sql"]]
    assert (
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{OWNER}" IN SCHEMA "app" GRANT SELECT ON TABLES'
        f' TO "{RO}"' in statements
    )
    assert (
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{OWNER}" GRANT EXECUTE ON FUNCTIONS TO "{RO}"'
        in statements
    )
    # Functions are executable by PUBLIC unless the role's defaults say otherwise.
    assert plan["unmanaged"] == [f"default privilege EXECUTE on functions of {OWNER} to PUBLIC"]
    applied = shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0

    run_sql(db, f"SET ROLE {OWNER}; CREATE TABLE app.made_later (id int); RESET ROLE;")
    assert acl(
        db,
        f"SELECT has_table_privilege('{RO}', 'app.made_later', 'SELECT'),"
        f" has_table_privilege('{RW}', 'app.made_later', 'DELETE WITH GRANT OPTION'),"
        f" has_table_privilege('{RO}', 'app.made_later', 'INSERT')",
    ) == [(True, True, False)]

    dumped = shell.run("dump", "-d", db, "--schema", "app")
    assert dumped.code == 0, dumped.output
    section = yaml.safe_load(dumped.stdout)["default_privileges"][OWNER]
    # PUBLIC's EXECUTE, which --prune revoked, is written as revoked
    assert section["functions"] == [
        {"role": RO, "privileges": ["EXECUTE"]},
        {"role": "PUBLIC", "privileges": ["EXECUTE"], "state": "absent"},
    ]
    assert {"role": RO, "privileges": ["SELECT"]} in section["in_schema"]["app"]["tables"]
    document = yaml.safe_load(dumped.stdout)
    document.pop("tables", None)  # the table made later is not the point here
    shell.write("schema.yaml", yaml.safe_dump(document))
    assert plan_code(shell, db, scratch_dsn) == 0

    run_sql(
        db,
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA app GRANT DELETE ON TABLES TO {RO}",
    )
    shell.write("schema.yaml", DEFAULTS)
    plan = plan_json(shell, db, scratch_dsn)
    # the table made later is undeclared in a schema the file manages: listed too
    assert sorted(plan["unmanaged"]) == [
        f"default privilege DELETE on tables of {OWNER} in schema app to {RO}",
        "table app.made_later",
    ]


@pytest.mark.one_major
def test_giving_a_table_to_a_role_one_is_not_a_member_of_is_refused_before_any_change(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    applier = f"mms_grant_applier_{secrets.token_hex(3)}"
    database = psycopg.conninfo.conninfo_to_dict(db)["dbname"]
    run_sql(
        db,
        f"CREATE ROLE {applier} LOGIN; GRANT CREATE ON SCHEMA public TO {applier};"
        f"GRANT CREATE ON DATABASE {database} TO {applier}",
    )
    as_applier = make_conninfo(db, user=applier)
    run_sql(as_applier, "CREATE TABLE t (id bigint)")
    shell.write(
        "schema.yaml",
        f"version: 1\ntables:\n  t:\n    owner: {OWNER}\n"
        "    columns:\n      id: {type: bigint}\n",
    )
    refused = shell.run("apply", "--yes", "-d", as_applier, "--dev-database", scratch_dsn)
    assert refused.code == 1, refused.output
    assert "Traceback" not in refused.output
    assert (
        f"role {applier} is not a member of role {OWNER} (to give it table public.t): "
        f"GRANT {OWNER} TO {applier}" in refused.stderr
    )
    assert query(
        db, "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 't'"
    ) == [(applier,)]
    # ALTER ... OWNER TO also needs the new owner to have CREATE in the schema.
    run_sql(db, f"GRANT {OWNER} TO {applier}; GRANT CREATE ON SCHEMA public TO {OWNER}")
    done = shell.run("apply", "--yes", "-d", as_applier, "--dev-database", scratch_dsn)
    assert done.code == 0, done.output


@pytest.mark.one_major
def test_apply_rehearse_converges_without_rehearsing_grants(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    # (A new SQL function reading a table measures ACCESS SHARE where NONE is predicted:
    # a matter of the functions kind, left out here.)
    shell.write("schema.yaml", FILE[: FILE.index("functions:")])
    rehearsed = shell.run("apply", "--yes", "--rehearse", "-d", db, "--dev-database", scratch_dsn)
    assert rehearsed.code == 0, rehearsed.output
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_sequence_takes_owner_and_grants_and_dumps_them(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write(
        "schema.yaml",
        f"version: 1\nsequences:\n  ticket_numbers:\n    owner: {OWNER}\n    grants:\n"
        f"      - {{role: {RW}, privileges: [USAGE, SELECT]}}\n",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert "set_privileges] public.ticket_numbers" in applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert acl(
        db,
        f"SELECT has_sequence_privilege('{RW}', 'ticket_numbers', 'USAGE'),"
        " pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'ticket_numbers'",
    ) == [(True, OWNER)]
    dumped = shell.run("dump", "-d", db)
    sequence = yaml.safe_load(dumped.stdout)["sequences"]["ticket_numbers"]
    assert sequence["owner"] == OWNER
    assert sequence["grants"] == [{"role": RW, "privileges": ["SELECT", "USAGE"]}]
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_a_table_the_plan_makes_has_the_declared_grants_not_the_default_ones(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """The applying role's default privileges grant more on a table the plan creates than
    its `grants:` declare: the plan revokes the rest (pgschema's revoke_default_privilege)."""
    run_sql(db, ROLES)
    run_sql(
        db,
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {RO};"
        f"ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, DELETE ON TABLES TO {RW};",
    )
    shell.write(
        "schema.yaml",
        f"""version: 1
tables:
  secrets:
    columns: {{id: {{type: integer}}}}
    grants: []
  readonly:
    columns: {{id: {{type: integer}}}}
    grants:
      - {{role: {RO}, privileges: [SELECT]}}
      - {{role: {RW}, privileges: [SELECT]}}
  untold:
    columns: {{id: {{type: integer}}}}
""",
    )
    plan = plan_json(shell, db, scratch_dsn)
    statements = [s for c in plan["changes"] for s in c["sql"]]
    assert f'REVOKE SELECT ON TABLE "public"."secrets" FROM "{RO}"' in statements, statements
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_json(shell, db, scratch_dsn, "--prune")["changes"] == []
    held = acl(
        db,
        "SELECT c.relname, coalesce(array_agg(a.grantee::regrole::text || ':' || a.privilege_type"
        " ORDER BY 1) FILTER (WHERE a.grantee <> c.relowner), '{}')"
        " FROM pg_class c LEFT JOIN LATERAL aclexplode(c.relacl) a ON true"
        " WHERE c.relname IN ('secrets', 'readonly', 'untold') GROUP BY 1 ORDER BY 1",
    )
    assert [(name, sorted(grants)) for name, grants in held] == [
        ("readonly", [f"{RO}:SELECT", f"{RW}:SELECT"]),
        ("secrets", []),
        ("untold", [f"{RO}:SELECT", f"{RW}:DELETE", f"{RW}:INSERT", f"{RW}:SELECT"]),
    ]


@pytest.mark.one_major
def test_prune_revokes_what_grants_do_not_list_and_all_grants_dumps_every_objects_list(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """`grants:` is an object's whole list: --prune revokes what it does not name, all of
    it for `grants: []`; an object without `grants:` keeps its own, --prune or not. `dump
    --all-grants` writes the list of every object, default privileges too (`grants: []`
    for a table only its owner may use, PUBLIC's EXECUTE on a function), so that a dumped
    file with --prune revokes every grant made since (pg-schema-diff's privilege-002 and
    sqldef's managedrolesrevokeall pairs)."""
    run_sql(
        db,
        ROLES + "CREATE TABLE listed (id int); CREATE TABLE emptied (id int);"
        "CREATE TABLE untold (id int); CREATE FUNCTION f() RETURNS int LANGUAGE sql"
        " AS 'SELECT 1';"
        f"GRANT SELECT, INSERT ON listed, emptied, untold TO {RO};"
        f"GRANT UPDATE (id) ON emptied TO {RW};",
    )
    shell.write(
        "schema.yaml",
        f"""version: 1
tables:
  listed:
    columns: {{id: {{type: integer}}}}
    grants: [{{role: {RO}, privileges: [SELECT]}}]
  emptied:
    columns: {{id: {{type: integer}}}}
    grants: []
  untold:
    columns: {{id: {{type: integer}}}}
functions:
  f():
    returns: integer
    language: sql
    body: SELECT 1
""",
    )
    dev = scratch_dsn
    pruned = shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert pruned.code == 0, pruned.output
    held = (
        "SELECT c.relname, coalesce(array_agg(a.grantee::regrole::text || ':' ||"
        " a.privilege_type ORDER BY 1) FILTER (WHERE a.grantee <> c.relowner), '{}')"
        " FROM pg_class c LEFT JOIN LATERAL aclexplode(c.relacl) a ON true"
        " WHERE c.relname IN ('listed', 'emptied', 'untold') GROUP BY 1 ORDER BY 1"
    )
    column_grants = f"SELECT has_column_privilege('{RW}', 'emptied', 'id', 'UPDATE')"
    assert acl(db, held) == [
        ("emptied", []),
        ("listed", [f"{RO}:SELECT"]),
        ("untold", [f"{RO}:INSERT", f"{RO}:SELECT"]),
    ]
    assert acl(db, column_grants) == [(False,)]

    dumped = shell.run("dump", "--all-grants", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    assert document["tables"]["emptied"]["grants"] == []
    assert document["tables"]["untold"]["grants"] == [
        {"role": RO, "privileges": ["SELECT", "INSERT"]}
    ]
    assert document["functions"]["f()"]["grants"] == [
        {"role": "PUBLIC", "privileges": ["EXECUTE"]}
    ]
    assert "grants" not in yaml.safe_load(shell.run("dump", "-d", db).stdout)["functions"]["f()"]
    shell.write("schema.yaml", dumped.stdout)
    run_sql(db, f"GRANT DELETE ON emptied, untold TO {RW}")
    pruned = shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert pruned.code == 0, pruned.output
    assert acl(db, held) == [
        ("emptied", []),
        ("listed", [f"{RO}:SELECT"]),
        ("untold", [f"{RO}:INSERT", f"{RO}:SELECT"]),
    ]
    again = shell.run("plan", "--detailed-exitcode", "--prune", "-d", db, "--dev-database", dev)
    assert again.code == 0, again.output


@pytest.mark.one_major
def test_giving_a_table_to_a_superuser_never_advises_membership_in_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    applier = f"mms_grant_applier_{secrets.token_hex(3)}"
    superuser = query(db, "SELECT current_user::text")[0][0]
    run_sql(db, f"CREATE ROLE {applier} LOGIN; GRANT CREATE ON SCHEMA public TO {applier}")
    as_applier = make_conninfo(db, user=applier)
    run_sql(as_applier, "CREATE TABLE t (id bigint)")
    shell.write(
        "schema.yaml",
        f"version: 1\ntables:\n  t:\n    owner: {superuser}\n"
        "    columns:\n      id: {type: bigint}\n",
    )
    refused = shell.run("apply", "--yes", "-d", as_applier, "--dev-database", scratch_dsn)
    assert refused.code == 1, refused.output
    assert (
        f"role {applier} is not a member of role {superuser} (to give it table public.t): "
        f"apply as {superuser}, or name an owner role {applier} is a member of" in refused.stderr
    )
    assert f"GRANT {superuser} TO" not in refused.output
