"""ADD COLUMN that rewrites the table (STORED generated, volatile default) needs --allow."""

from __future__ import annotations

from tests.conftest import query, run_sql
from tests.outside import Shell

SCHEMA = """version: 1
tables:
  items:
    columns:
      id: {type: integer, nullable: false}
      token: {type: uuid, default: gen_random_uuid()}
    primary_key: [id]
"""


def test_a_volatile_default_is_refused_without_allow_rewrite(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(db, "CREATE TABLE items (id integer PRIMARY KEY); INSERT INTO items VALUES (1)")
    shell.write("schema.yaml", SCHEMA)
    target = ("-d", db, "--dev-database", scratch_dsn)
    refused = shell.run("apply", *target, "--yes")
    assert refused.code == 3, refused.output
    assert "rewrite" in refused.output
    assert query(db, "SELECT count(*) FROM pg_attribute WHERE attname = 'token'") == [(0,)]
    applied = shell.run("apply", *target, "--yes", "--allow", "rewrite")
    assert applied.code == 0, applied.output
    assert query(db, "SELECT count(*) FROM items WHERE token IS NOT NULL") == [(1,)]
