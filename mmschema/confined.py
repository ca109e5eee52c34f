"""The file's SQL on the scratch server: in a function, as a role without superuser power.

A superuser session creates (once) the role `mmschema_scratch`: no superuser, no login, no
role memberships, allowed to create in the scratch database and its `public` schema. Each
statement of the file then runs through a SECURITY DEFINER function owned by that role:
inside it PostgreSQL refuses `SET ROLE`, `RESET ROLE`, `SET SESSION AUTHORIZATION` (and
their `set_config` forms), and a function cannot COMMIT, so the file's text can neither
take the superuser back nor end the transaction that is rolled back. A session that is not
a superuser runs the statements as itself, still inside a function.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from mmschema.connect import ConnectionFailed, connect

ROLE = "mmschema_scratch"
RUNNER = sql.Identifier("pg_temp", "mmschema_run_declared")

# One advisory lock key for the role's creation, so two first runs do not race.
_SETUP_LOCK = 0x6D6D73_6372  # "mmscr"

_IS_SUPERUSER = "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"

_ROLE_STATE = """
SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls
       OR r.rolcanlogin OR EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                                    WHERE m.member = r.oid)
FROM pg_catalog.pg_roles r WHERE r.rolname = %s
"""

_MISSING_GRANTS = """
SELECT NOT pg_catalog.has_database_privilege(%(role)s, pg_catalog.current_database(), 'CREATE'),
       n.oid IS NOT NULL AND NOT pg_catalog.has_schema_privilege(%(role)s, n.oid, 'CREATE')
FROM (SELECT 1) one
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = 'public'
"""

# Schemas of the scratch database the role may not create in (a --dev-database's own):
# granted inside the transaction that is rolled back.
_CLOSED_SCHEMAS = """
SELECT nspname FROM pg_catalog.pg_namespace
WHERE nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema'
  AND NOT pg_catalog.has_schema_privilege(%s, oid, 'CREATE')
"""


class Confinement:
    """How the file's statements run in one scratch session."""

    def __init__(self, conn: psycopg.Connection[Any], as_role: bool) -> None:
        self.conn = conn
        self.as_role = as_role
        self.direct = False  # no runner (no TEMP privilege, no plpgsql): not a superuser

    def open(self) -> None:
        """In the scratch transaction, before the first statement: create the runner."""
        definer = sql.SQL("SECURITY DEFINER") if self.as_role else sql.SQL("")
        create = sql.SQL(
            "CREATE FUNCTION {}(statement text) RETURNS void LANGUAGE plpgsql {} "
            "AS 'BEGIN EXECUTE statement; END'"
        ).format(RUNNER, definer)
        if not self.as_role:
            try:
                with self.conn.transaction():
                    self.conn.execute(create)
            except psycopg.Error:
                self.direct = True
            return
        self.conn.execute(create)
        role = sql.Identifier(ROLE)
        self.conn.execute(sql.SQL("ALTER FUNCTION {}(text) OWNER TO {}").format(RUNNER, role))
        for (schema,) in self.conn.execute(_CLOSED_SCHEMAS, (ROLE,)).fetchall():
            self.conn.execute(
                sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(
                    sql.Identifier(schema), role
                )
            )

    def run(self, statement: str) -> None:
        """Statements the file's text is part of, through the runner."""
        if self.direct:
            self.conn.execute(statement.encode())
        else:
            self.conn.execute(sql.SQL("SELECT {}(%s)").format(RUNNER), (statement,))


def confine(conn: psycopg.Connection[Any]) -> Confinement:
    """Prepare a scratch session (in autocommit, before its transaction begins)."""
    row = conn.execute(_IS_SUPERUSER).fetchone()
    if not (row and row[0]):
        return Confinement(conn, as_role=False)
    for attempt in (1, 2):
        try:
            with conn.transaction():
                conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(%s)", (_SETUP_LOCK,))
                _ensure_role(conn)
            break
        except (errors.DuplicateObject, errors.UniqueViolation):
            if attempt == 2:  # the role is cluster-wide; the lock is per database
                raise
    return Confinement(conn, as_role=True)


def _ensure_role(conn: psycopg.Connection[Any]) -> None:
    role = sql.Identifier(ROLE)
    state = conn.execute(_ROLE_STATE, (ROLE,)).fetchone()
    if state is None:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOINHERIT").format(role))
    elif state[0]:
        conn.execute(
            sql.SQL(
                "ALTER ROLE {} NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS "
                "NOLOGIN NOINHERIT"
            ).format(role)
        )
        memberships = conn.execute(
            "SELECT g.rolname FROM pg_catalog.pg_auth_members m "
            "JOIN pg_catalog.pg_roles g ON g.oid = m.roleid "
            "JOIN pg_catalog.pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
            (ROLE,),
        ).fetchall()
        for (group,) in memberships:
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), role))
    database, public = conn.execute(_MISSING_GRANTS, {"role": ROLE}).fetchone() or (False, False)
    if database:
        conn.execute(
            sql.SQL("GRANT CREATE, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(conn.info.dbname), role
            )
        )
    if public:
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(role))


SCRIPT_ROLE_PREFIX = "mmschema_import_"


@contextlib.contextmanager
def script_connections(
    dsn: str, application: str
) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """Connections to the (temporary) database `dsn` for running whole SQL scripts: one for
    the scripts, one as `dsn`'s own user for their CREATE EXTENSION statements.

    Scripts may COMMIT, so they cannot run in a function: when `dsn` is a superuser's, they
    run as a role made for this run alone (a login with a random password, owner of the
    database, nothing else), dropped afterwards. Where the server will not let that role log
    in, the session switches to it with SET SESSION AUTHORIZATION instead (which a script
    could undo: it is the weaker fence).
    """
    with connect(dsn, application) as admin:
        row = admin.execute(_IS_SUPERUSER).fetchone()
        if not (row and row[0]):
            yield admin, admin
            return
        role = SCRIPT_ROLE_PREFIX + secrets.token_hex(6)
        password = secrets.token_urlsafe(24)
        _create_script_role(admin, role, password)
        try:
            with _as_role(dsn, admin, role, password, application) as conn:
                yield conn, admin
        finally:
            _drop_script_role(admin, role)


def _create_script_role(admin: psycopg.Connection[Any], role: str, password: str) -> None:
    name = sql.Identifier(role)
    admin.execute(
        sql.SQL("CREATE ROLE {} LOGIN NOINHERIT PASSWORD {}").format(name, sql.Literal(password))
    )
    database = sql.Identifier(admin.info.dbname)
    admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(database, name))
    # PostgreSQL 14's `public` belongs to the bootstrap superuser, not the database's owner.
    admin.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(name))


@contextlib.contextmanager
def _as_role(
    dsn: str, admin: psycopg.Connection[Any], role: str, password: str, application: str
) -> Iterator[psycopg.Connection[Any]]:
    try:
        conn = connect(make_conninfo(dsn, user=role, password=password), application)
    except ConnectionFailed:
        admin.execute(sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(role)))
        try:
            yield admin
        finally:
            if admin.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                admin.rollback()
            admin.execute("RESET SESSION AUTHORIZATION")
        return
    with conn:
        yield conn


def _drop_script_role(admin: psycopg.Connection[Any], role: str) -> None:
    """Give what the scripts made to the superuser, then drop the role."""
    name = sql.Identifier(role)
    admin.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(name))
    admin.execute(sql.SQL("DROP OWNED BY {}").format(name))
    admin.execute(sql.SQL("DROP ROLE {}").format(name))
