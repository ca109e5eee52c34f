"""Saved plans run as a user does: self-contained, and refused on another target."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from psycopg import sql

from mmschema.localserver import LocalServer
from tests.conftest import query, run_sql
from tests.outside import Shell
from tests.test_plan_schema import validate

WANTED = """\
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


@pytest.fixture
def other_db(pg_server: LocalServer, db: str) -> Iterator[str]:
    """A second database on the test server, in the same state as `db` will be."""
    import psycopg

    name = "t_other_" + db.rsplit("/", 1)[1][-6:]
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_server.dsn(name)
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.one_major
def test_a_saved_plan_applies_without_the_schema_file(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY)")
    shell.write("schema.yaml", WANTED)
    made = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--out", "plan.json")
    assert made.code == 0, made.output
    assert "run it with: mmschema apply plan.json and the same -d" in made.stderr
    saved = json.loads(shell.path("plan.json").read_text())
    assert saved["file"]["text"] == WANTED
    validate(saved)  # the saved plan is a plan document too
    shell.path("schema.yaml").unlink()  # the reviewer has only the plan
    applied = shell.run("apply", "plan.json", "-d", db, "--dev-database", scratch_dsn, "--yes")
    assert applied.code == 0, applied.output
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_note'") == [(1,)]
    assert "Traceback" not in applied.output


@pytest.mark.one_major
def test_a_saved_plan_on_another_target_names_the_one_it_was_made_for(
    shell: Shell, db: str, other_db: str, scratch_dsn: str
) -> None:
    for dsn in (db, other_db):
        run_sql(dsn, "CREATE TABLE t (id integer PRIMARY KEY)")
    shell.write("schema.yaml", WANTED)
    made = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--out", "plan.json")
    assert made.code == 0, made.output
    applied = shell.run(
        "apply", "plan.json", "-d", other_db, "--dev-database", scratch_dsn, "--yes"
    )
    assert applied.code == 3, applied.output
    made_for = db.split("@", 1)[1]  # host:port/dbname, as the plan names it
    assert f"this plan was made for {made_for}" in applied.stderr
    assert "the database changed" not in applied.output
    assert query(other_db, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_note'") == [(0,)]


@pytest.mark.one_major
def test_the_target_of_a_saved_plan_never_shows_a_password(
    shell: Shell, db: str, other_db: str, scratch_dsn: str
) -> None:
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY)")
    shell.write("schema.yaml", WANTED)
    with_password = db.replace("postgres@", "postgres:s3cret-pw@", 1)
    made = shell.run(
        "plan", "-d", with_password, "--dev-database", scratch_dsn, "--out", "plan.json"
    )
    assert made.code == 0, made.output
    assert "s3cret-pw" not in shell.path("plan.json").read_text()
    applied = shell.run(
        "apply", "plan.json", "-d", other_db, "--dev-database", scratch_dsn, "--yes"
    )
    assert applied.code == 3, applied.output
    assert "this plan was made for" in applied.stderr
    assert "s3cret-pw" not in applied.output


@pytest.mark.one_major
def test_a_saved_plan_with_grants_applies_in_a_process_of_another_hash_seed(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """The fingerprint of the live grants (sets of privileges) is the same in every process."""
    role = "saved_rw_" + db.rsplit("/", 1)[1][-6:]
    run_sql(db, f"DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN END $$")
    run_sql(db, "CREATE TABLE t (id integer PRIMARY KEY)")
    run_sql(db, f"GRANT SELECT, INSERT, UPDATE, DELETE ON t TO {role}")
    privileges = "[SELECT, INSERT, UPDATE, DELETE]"
    grants = f"    grants:\n      - {{role: {role}, privileges: {privileges}}}\n"
    shell.write("schema.yaml", WANTED + grants)
    common = ("-d", db, "--dev-database", scratch_dsn)
    made = shell.run("plan", *common, "--out", "plan.json", env={"PYTHONHASHSEED": "1"})
    assert made.code == 0, made.output
    applied = shell.run("apply", "plan.json", *common, "--yes", env={"PYTHONHASHSEED": "2"})
    assert applied.code == 0, applied.output
    assert query(db, "SELECT count(*) FROM pg_indexes WHERE indexname = 't_note'") == [(1,)]
