"""`--rehearse` run as a user does: index builds on the embedded scratch server, and rows."""

from __future__ import annotations

import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell

WITH_INDEX = """\
version: 1
tables:
  t:
    columns:
      id:   {type: integer, nullable: false}
      note: {type: text}
    primary_key: [id]
    indexes:
      t_note: {columns: [note]}
"""

NOT_NULL = """\
version: 1
tables:
  t:
    columns:
      id:   {type: integer, nullable: false}
      note: {type: text, nullable: false}
    primary_key: [id]
"""


@pytest.mark.one_major
def test_rehearsal_of_an_index_build_on_the_embedded_scratch_server(shell: Shell, db: str) -> None:
    """The second session that watches a concurrent build carries the embedded password."""
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY, note text)")
    shell.write("schema.yaml", WITH_INDEX)
    outcome = shell.run("plan", "-d", db, "--rehearse", timeout=300)
    assert outcome.code == 0, outcome.output
    assert "no password supplied" not in outcome.output
    assert "measured SHARE UPDATE EXCLUSIVE on public.t" in outcome.stdout
    assert "Traceback" not in outcome.output
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_note'") == [(0,)]


@pytest.mark.one_major
def test_rehearsal_says_rows_were_not_copied_and_shows_the_preflight(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "CREATE TABLE t (id integer PRIMARY KEY, note text);"
        "INSERT INTO t VALUES (1, NULL), (2, NULL), (3, 'x')",
    )
    shell.write("schema.yaml", NOT_NULL)
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--rehearse")
    assert outcome.code == 0, outcome.output
    report = outcome.stdout.split("Rehearsal", 1)[1]
    assert "rows were not copied" in report
    # Beside the measured lock of the NOT NULL change, the pre-flight's count on the target.
    lines = report.splitlines()
    at = next(i for i, line in enumerate(lines) if "set_not_null" in line or "NOT NULL" in line)
    nearby = "\n".join(lines[at : at + 4])
    assert "measured" in nearby and "2 rows have note NULL" in nearby, report
    assert "apply would be refused" in report


ADD_DOMAIN_COLUMN = """\
version: 1
tables:
  t:
    columns:
      id:   {type: integer, nullable: false}
      note: {type: text}
      dice: {type: dice}
    primary_key: [id]
"""


@pytest.mark.parametrize(
    ("domain", "why"),
    [
        ("CREATE DOMAIN dice AS float8 DEFAULT random()", "has the volatile default random()"),
        ("CREATE DOMAIN dice AS float8 CHECK (VALUE >= 0)", "is a domain with constraints"),
    ],
    ids=["volatile-default", "check"],
)
@pytest.mark.one_major
def test_a_column_whose_domain_fills_every_row_is_a_predicted_rewrite(
    shell: Shell, db: str, scratch_dsn: str, domain: str, why: str
) -> None:
    """A domain's volatile default, or its constraints (checked against every row), make
    ADD COLUMN rewrite the table: the plan says so, and the rehearsal agrees."""
    run_sql(db, f"{domain}; CREATE TABLE t (id integer PRIMARY KEY, note text)")
    shell.write("schema.yaml", ADD_DOMAIN_COLUMN)
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--rehearse")
    assert outcome.code == 0, outcome.output
    hazard = next(x for x in outcome.stdout.splitlines() if "hazard rewrite" in x)
    assert "adding dice rewrites public.t" in hazard and why in hazard, hazard
    report = outcome.stdout.split("Rehearsal", 1)[1]
    assert "rewrote public.t" in report and "NOT predicted" not in report, report
    refused = shell.run("apply", "-d", db, "--dev-database", scratch_dsn, "--yes")
    assert refused.code == 3, refused.output
    assert "rewrite" in refused.output
    assert query(db, "SELECT count(*) FROM pg_attribute WHERE attname = 'dice'") == [(0,)]


SQL_FUNCTION_READING_A_TABLE = """\
version: 1
tables:
  items:
    columns:
      id: {type: bigint}
functions:
  public.count_items():
    returns: bigint
    body: SELECT count(*) FROM items
"""


@pytest.mark.one_major
def test_a_sql_function_reading_a_table_is_predicted_to_lock_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """Its body is analyzed as it is made: ACCESS SHARE on the table, in the plan too."""
    run_sql(db, "CREATE TABLE items (id bigint)")
    shell.write("schema.yaml", SQL_FUNCTION_READING_A_TABLE)
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--rehearse")
    assert outcome.code == 0, outcome.output
    assert "create_function public.count_items()  lock: ACCESS SHARE" in outcome.stdout
    report = outcome.stdout.split("Rehearsal", 1)[1]
    assert "predicted ACCESS SHARE; measured ACCESS SHARE on public.items" in report, report
