"""Objects a plan drops and makes again keep the owner and the grants they had that the file
does not manage (table and column grants, grant options), through the installed command:
a replaced table, the views on it, views rebuilt around a column change or their own."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell
from tests.test_kind_grants import plan_json

RO, RW, OWNER = "mms_kept_ro", "mms_kept_rw", "mms_kept_owner"
ROLES = "".join(
    f"DO $$BEGIN CREATE ROLE {r}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;\n"
    for r in (RO, RW, OWNER)
)
BEFORE = ROLES + (
    "CREATE TABLE quotes (venue text NOT NULL, quoted_on date NOT NULL, bid numeric)"
    " PARTITION BY RANGE (quoted_on);"
    f" ALTER TABLE quotes OWNER TO {OWNER};"
    f" GRANT SELECT ON quotes TO {RO} WITH GRANT OPTION;"
    f" GRANT UPDATE (bid), SELECT (venue) ON quotes TO {RW};"
    f" GRANT INSERT ON quotes TO {RW};"
    " CREATE TABLE trades (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);"
    f" ALTER TABLE trades OWNER TO {OWNER};"
    f" GRANT SELECT, DELETE ON trades TO {RO};"
    f" GRANT UPDATE (at) ON trades TO {RW} WITH GRANT OPTION;"
    " CREATE VIEW quote_venues AS SELECT venue, bid FROM quotes;"
    f" ALTER VIEW quote_venues OWNER TO {OWNER};"
    f" GRANT SELECT (venue) ON quote_venues TO {RO};"
    f" GRANT SELECT ON quote_venues TO {RW};"
    " CREATE TABLE names (id integer, name text);"
    " CREATE VIEW named AS SELECT id, name FROM names;"
    f" GRANT SELECT (name) ON named TO {RO} WITH GRANT OPTION;"
    " CREATE VIEW labels AS SELECT 1 AS id, 'x'::text AS label;"
    f" GRANT SELECT (label) ON labels TO {RO};"
    f" GRANT SELECT (id) ON labels TO {RW};"
    " CREATE MATERIALIZED VIEW totals AS SELECT 1 AS n, 2 AS m;"
    f" GRANT SELECT (n) ON totals TO {RO};"
    f" GRANT SELECT (m) ON totals TO {RW};"
)
# quotes: partitioned otherwise (replaced), no owner in the file, one grant of three
# declared; trades: replaced, neither owner nor grants in the file; named: undeclared,
# made again around names.id's new type; labels: declared, its column id gone (rebuilt),
# so its grant on id has nothing left to keep.
FILE = f"""version: 1
tables:
  quotes:
    columns:
      venue: {{type: text, nullable: false}}
      quoted_on: {{type: date, nullable: false}}
      bid: {{type: numeric}}
    partition_by: LIST (venue)
    grants:
      - {{role: {RW}, privileges: [INSERT]}}
  trades:
    columns:
      id: {{type: bigint, nullable: false}}
      at: {{type: date, nullable: false}}
    partition_by: RANGE (id)
  names:
    columns:
      id: {{type: bigint}}
      name: {{type: text}}
views:
  quote_venues:
    query: SELECT venue, bid FROM quotes
  labels:
    query: SELECT 'x'::text AS label, 2 AS id2
materialized_views:
  totals:
    query: SELECT 1 AS n, 3 AS k
"""


@pytest.mark.one_major
def test_remade_objects_keep_the_owner_and_grants_the_file_does_not_manage(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    plan = plan_json(shell, db, scratch_dsn)
    statements = [s for c in plan["changes"] for s in c["sql"]]
    # the plan says so
    assert f'ALTER TABLE "public"."trades" OWNER TO "{OWNER}"' in statements
    granted = f'GRANT UPDATE ("at") ON TABLE "public"."trades" TO "{RW}" WITH GRANT OPTION'
    assert granted in statements
    applied = shell.run(
        "apply", "--yes", "--allow", "destructive,rewrite", "-d", db, "--dev-database", scratch_dsn
    )
    assert applied.code == 0, applied.output
    assert "replace_table public.quotes" in applied.output
    assert query(
        db,
        "SELECT pg_get_userbyid(c.relowner)::text,"
        f" has_table_privilege('{RO}', 'quotes', 'SELECT WITH GRANT OPTION'),"
        f" has_column_privilege('{RW}', 'quotes', 'bid', 'UPDATE'),"
        f" has_column_privilege('{RW}', 'quotes', 'venue', 'SELECT'),"
        f" has_column_privilege('{RW}', 'quotes', 'quoted_on', 'SELECT'),"
        f" has_table_privilege('{RW}', 'quotes', 'INSERT')"
        " FROM pg_class c WHERE c.relname = 'quotes'",
    ) == [(OWNER, True, True, True, False, True)]
    assert query(
        db,
        "SELECT pg_get_userbyid(c.relowner)::text,"
        f" has_table_privilege('{RO}', 'trades', 'SELECT'),"
        f" has_table_privilege('{RO}', 'trades', 'DELETE'),"
        f" has_table_privilege('{RO}', 'trades', 'INSERT'),"
        f" has_column_privilege('{RW}', 'trades', 'at', 'UPDATE WITH GRANT OPTION')"
        " FROM pg_class c WHERE c.relname = 'trades'",
    ) == [(OWNER, True, True, False, True)]
    assert query(
        db,
        "SELECT pg_get_userbyid(c.relowner)::text,"
        f" has_column_privilege('{RO}', 'quote_venues', 'venue', 'SELECT'),"
        f" has_column_privilege('{RO}', 'quote_venues', 'bid', 'SELECT'),"
        f" has_table_privilege('{RW}', 'quote_venues', 'SELECT'),"
        f" has_column_privilege('{RO}', 'named', 'name', 'SELECT WITH GRANT OPTION'),"
        f" has_column_privilege('{RO}', 'named', 'id', 'SELECT'),"
        f" has_column_privilege('{RO}', 'labels', 'label', 'SELECT'),"
        f" has_column_privilege('{RO}', 'totals', 'n', 'SELECT'),"
        f" has_column_privilege('{RW}', 'totals', 'k', 'SELECT')"
        " FROM pg_class c WHERE c.relname = 'quote_venues'",
    ) == [(OWNER, True, False, True, True, False, True, True, False)]
    assert plan_json(shell, db, scratch_dsn)["changes"] == []


@pytest.mark.one_major
def test_prune_does_not_give_back_what_it_revokes(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE)
    applied = shell.run(
        "apply", "--yes", "--prune", "--allow", "destructive,rewrite",
        "-d", db, "--dev-database", scratch_dsn,
    )
    assert applied.code == 0, applied.output
    assert query(
        db,
        f"SELECT has_table_privilege('{RO}', 'quotes', 'SELECT'),"
        f" has_column_privilege('{RW}', 'quotes', 'bid', 'UPDATE'),"
        f" has_table_privilege('{RW}', 'quotes', 'INSERT')",
    ) == [(False, False, True)]
    again = plan_json(shell, db, scratch_dsn, "--prune")
    assert again["changes"] == [], again["changes"]
