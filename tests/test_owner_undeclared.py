"""An owner the file does not declare is left as it is, by plan, apply and --prune alike
(the file says nothing about it), through the installed command."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell

OWNER = "mms_undeclared_owner"
FILE = """version: 1
tables:
  users:
    columns:
      id: {type: bigint, nullable: false}
      name: {type: varchar(100)}
    primary_key: [id]
"""


@pytest.mark.one_major
def test_an_undeclared_owner_is_left_alone_even_with_prune(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        f"DO $$BEGIN CREATE ROLE {OWNER}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
        "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100));"
        f"ALTER TABLE users OWNER TO {OWNER};",
    )
    shell.write("schema.yaml", FILE)
    for flags in ((), ("--prune",)):
        planned = shell.run("plan", "--detailed-exitcode", *flags, "-d", db,
                            "--dev-database", scratch_dsn)
        assert planned.code == 0, planned.output
    applied = shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    owner = query(db, "SELECT tableowner::text FROM pg_tables WHERE tablename = 'users'")
    assert owner == [(OWNER,)]
