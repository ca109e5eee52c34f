"""What a type change drops and makes again around it, run as a user does: a unique index
over the retyped column stays enforced throughout."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell

ROWS = 30_000
UNIQUE_EMAIL_BEFORE = f"""
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, {ROWS}) g;
"""
UNIQUE_EMAIL = """\
version: 1
tables:
  users:
    columns:
      id:    {type: integer, nullable: false}
      email: {type: varchar(320), nullable: false}
    primary_key: [id]
    indexes:
      users_email_lower: {columns: [{expr: lower(email)}], unique: true}
"""


def _insert_duplicate_while_index_missing(db: str, done: threading.Event, seen: list[str]) -> None:
    """Another session: whenever the unique index is missing from the catalog, insert a
    row whose lower(email) another row has (autocommit, as an application would)."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '20s'")
        while not done.is_set():
            row = conn.execute(
                "SELECT count(*) FROM pg_class WHERE relname = 'users_email_lower'"
            ).fetchone()
            if row is not None and row[0] == 0:
                seen.append("missing")
                try:
                    conn.execute("INSERT INTO users VALUES (0, 'USER1@example.com')")
                    seen.append("inserted")
                except psycopg.Error as error:
                    seen.append(f"refused: {error.sqlstate}")
                return
            time.sleep(0.001)


def test_a_unique_expression_index_stays_enforced_across_a_type_change(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, UNIQUE_EMAIL_BEFORE)
    shell.write("schema.yaml", UNIQUE_EMAIL)
    planned = shell.run(
        "plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json", "--detailed-exitcode"
    )
    assert planned.code == 2, planned.output
    steps = json.loads(planned.stdout)["changes"]
    kinds = [(s["kind"], s["transactional"]) for s in steps]
    # Dropped and made again in the type change's transaction: never missing for others.
    assert kinds == [
        ("drop_index", True),
        ("alter_column_type", True),
        ("create_index", True),
    ], kinds
    create = steps[2]
    assert "CONCURRENTLY" not in " ".join(create["sql"])
    assert create["lock"] == "ACCESS EXCLUSIVE", create
    assert any(
        h["kind"] == "blocking" and "transaction" in h["detail"] for h in create["hazards"]
    ), create

    done, seen = threading.Event(), list[str]()
    watcher = threading.Thread(target=_insert_duplicate_while_index_missing, args=(db, done, seen))
    watcher.start()
    try:
        applied = shell.run(
            "apply",
            "-d",
            db,
            "--dev-database",
            scratch_dsn,
            "--yes",
            "--allow",
            "destructive,rewrite,blocking",
        )
    finally:
        done.set()
        watcher.join()
    assert applied.code == 0, applied.output
    assert seen == [], seen
    assert query(db, "SELECT count(*) FROM users WHERE lower(email) = 'user1@example.com'") == [
        (1,)
    ]
    index = "SELECT indisunique, indisvalid FROM pg_index WHERE indexrelid = %s::regclass"
    assert query(db, index, ["users_email_lower"]) == [(True, True)]
    again = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--detailed-exitcode")
    assert again.code == 0, again.output


@pytest.mark.one_major
def test_the_plan_says_the_unique_index_is_built_under_the_type_changes_lock(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, UNIQUE_EMAIL_BEFORE)
    shell.write("schema.yaml", UNIQUE_EMAIL)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    text = planned.stdout
    assert "DROP INDEX CONCURRENTLY" not in text and "CREATE UNIQUE INDEX CONCURRENTLY" not in text
    assert "hazard blocking" in text and "transaction" in text, text


READERS_BEFORE = """
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
CREATE TABLE email_log (email text);
INSERT INTO users VALUES (1, 'a@example.com');
CREATE FUNCTION email_of(i integer) RETURNS text LANGUAGE sql STABLE
BEGIN ATOMIC SELECT email FROM users WHERE id = i; END;
COMMENT ON FUNCTION email_of(integer) IS 'the address';
REVOKE ALL ON FUNCTION email_of(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION email_of(integer) TO pg_monitor;
CREATE RULE log_email AS ON UPDATE TO users DO ALSO INSERT INTO email_log VALUES (NEW.email);
COMMENT ON RULE log_email ON users IS 'audit';
"""
READERS = """\
version: 1
tables:
  users:
    columns:
      id:    {type: integer, nullable: false}
      email: {type: varchar(320), nullable: false}
    primary_key: [id]
"""
READERS_STATE = """
SELECT (SELECT pg_get_functiondef('email_of(integer)'::regprocedure)),
       (SELECT obj_description('email_of(integer)'::regprocedure, 'pg_proc')),
       (SELECT proacl::text FROM pg_proc WHERE oid = 'email_of(integer)'::regprocedure),
       (SELECT pg_get_ruledef(oid) FROM pg_rewrite WHERE rulename = 'log_email'),
       (SELECT obj_description(oid, 'pg_rewrite') FROM pg_rewrite WHERE rulename = 'log_email')
"""


def test_begin_atomic_routines_and_rules_reading_a_retyped_column_are_made_again(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """PostgreSQL refuses the type change while they read the column: they are dropped
    before it and made again after it, as they were, in its transaction."""
    run_sql(db, READERS_BEFORE)
    before = query(db, READERS_STATE)
    shell.write("schema.yaml", READERS)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    assert planned.code == 0, planned.output
    kinds = [s["kind"] for s in json.loads(planned.stdout)["changes"]]
    assert kinds == [
        "drop_function",
        "drop_rule",
        "alter_column_type",
        "create_function",
        "create_rule",
    ], kinds
    rehearsed = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--rehearse")
    assert rehearsed.code == 0, rehearsed.output
    applied = shell.run(
        "apply", "-d", db, "--dev-database", scratch_dsn, "--yes", "--allow", "destructive,rewrite"
    )
    assert applied.code == 0, applied.output
    assert query(db, READERS_STATE) == before
    assert query(
        db,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'users'::regclass AND attname = 'email'",
    ) == [("character varying(320)",)]
    assert query(db, "SELECT email_of(1)") == [("a@example.com",)]
    again = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--detailed-exitcode")
    assert again.code == 0, again.output
