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
