"""`mmschema import`: GRANT, REVOKE and ALTER ... OWNER TO statements of migration folders
become the owner and grants of the file's entries; those on objects the file does not
declare (a language, say) are listed."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

RO, RW, OWNER = "mms_import_ro", "mms_import_rw", "mms_import_owner"
ROLES = "".join(
    f"DO $$BEGIN CREATE ROLE {r}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;\n"
    for r in (RO, RW, OWNER)
)
MIGRATIONS = {
    "m/001-base.sql": """CREATE SCHEMA app;
CREATE TABLE app.orders (id bigint PRIMARY KEY, total numeric);
CREATE VIEW app.big AS SELECT id FROM app.orders WHERE total > 100;
CREATE FUNCTION app.order_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM app.orders';
CREATE DOMAIN app.amount AS numeric;
""",
    "m/002-grants.sql": f"""GRANT USAGE ON SCHEMA app TO {RO};
GRANT SELECT, INSERT ON app.orders TO {RO};
REVOKE INSERT ON app.orders FROM {RO};
GRANT SELECT (id) ON app.orders TO {RW} WITH GRANT OPTION;
ALTER TABLE app.orders OWNER TO {OWNER};
ALTER TABLE app.orders ADD COLUMN note text;
GRANT SELECT ON app.big TO {RW};
ALTER VIEW app.big OWNER TO {OWNER};
ALTER VIEW app.big RENAME TO bigger;
REVOKE EXECUTE ON FUNCTION app.order_count() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.order_count() TO {RO};
ALTER FUNCTION app.order_count() OWNER TO {OWNER};
GRANT USAGE ON DOMAIN app.amount TO {RW};
ALTER DOMAIN app.amount OWNER TO {OWNER};
""",
}


@pytest.mark.one_major
def test_grants_revokes_and_owners_of_migrations_are_imported(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)  # roles are the server's: the scratch database's too
    for name, text in MIGRATIONS.items():
        shell.write(name, text)
    imported = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert imported.code == 0, imported.output
    assert "cannot hold" not in imported.output
    document = yaml.safe_load(shell.path("schema.yaml").read_text())
    orders = document["tables"]["app.orders"]
    assert orders["owner"] == OWNER
    assert orders["grants"] == [
        {"role": RO, "privileges": ["SELECT"]},
        {"role": RW, "privileges": ["SELECT"], "columns": ["id"], "with_grant_option": True},
    ]
    assert "note" in orders["columns"]  # altered by the scripts after its owner change
    view = document["views"]["app.bigger"]
    assert view["owner"] == OWNER
    assert view["grants"] == [{"role": RW, "privileges": ["SELECT"]}]
    function = document["functions"]["app.order_count()"]
    assert function["owner"] == OWNER
    assert function["grants"] == [{"role": RO, "privileges": ["EXECUTE"]}]
    assert document["domains"]["app.amount"]["owner"] == OWNER
    assert {"role": RW, "privileges": ["USAGE"]} in document["domains"]["app.amount"]["grants"]
    assert document["schemas"]["app"]["grants"] == [{"role": RO, "privileges": ["USAGE"]}]

    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert query(
        db,
        f"SELECT has_table_privilege('{RO}', 'app.orders', 'INSERT'),"
        f" has_column_privilege('{RW}', 'app.orders', 'id', 'SELECT WITH GRANT OPTION'),"
        f" has_function_privilege('public', 'app.order_count()', 'EXECUTE'),"
        f" has_type_privilege('{RW}', 'app.amount', 'USAGE')",
    ) == [(False, True, False, True)]


@pytest.mark.one_major
def test_grants_the_file_cannot_hold_are_listed(shell: Shell, db: str, scratch_dsn: str) -> None:
    run_sql(db, ROLES)
    shell.write(
        "m/001.sql",
        f"CREATE TABLE t (id bigint);\nGRANT SELECT ON t TO {RO};\n"
        f"GRANT USAGE ON LANGUAGE sql TO {RO};\n",
    )
    refused = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert refused.code == 1, refused.output
    assert "m/001.sql:3: GRANT USAGE ON LANGUAGE sql" in refused.stderr
    assert "holds owners and grants of schemas, tables" in refused.stderr
    assert "m/001.sql:2:" not in refused.stderr
    assert "Traceback" not in refused.output


DEFAULTS = f"""CREATE SCHEMA app;
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA app GRANT SELECT ON TABLES TO {RO};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} GRANT USAGE ON SEQUENCES TO {RW} WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA app GRANT INSERT ON TABLES TO {RW};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA app REVOKE INSERT ON TABLES FROM {RW};
ALTER DEFAULT PRIVILEGES GRANT SELECT ON SEQUENCES TO {RO};
CREATE TABLE app.orders (id bigint);
"""


@pytest.mark.one_major
def test_alter_default_privileges_of_migrations_become_default_privileges(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write("m/001.sql", DEFAULTS)
    imported = shell.run("import", "m", "-o", "schema.yaml", "--dev-database", scratch_dsn)
    assert imported.code == 0, imported.output
    assert "ALTER DEFAULT" not in imported.output
    document = yaml.safe_load(shell.path("schema.yaml").read_text())
    # without FOR ROLE: the importing user's, who is given the scripts' objects too
    importer = [role for role in document["default_privileges"] if role != OWNER]
    assert len(importer) == 1
    mine = document["default_privileges"].pop(importer[0])
    assert mine == {"sequences": [{"role": RO, "privileges": ["SELECT"]}]}
    assert document["default_privileges"] == {
        OWNER: {
            "functions": [{"role": "PUBLIC", "privileges": ["EXECUTE"], "state": "absent"}],
            "sequences": [{"role": RW, "privileges": ["USAGE"], "with_grant_option": True}],
            "in_schema": {"app": {"tables": [{"role": RO, "privileges": ["SELECT"]}]}},
        }
    }
    shell.write("schema.yaml", yaml.safe_dump(document))
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert query(
        db,
        f"SELECT count(*) FROM pg_default_acl WHERE defaclrole = '{OWNER}'::regrole",
    ) == [(3,)]
