"""ALTER ... OWNER TO and ALTER DEFAULT PRIVILEGES in imported scripts, run by the superuser
once the scripts are done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.enums import AlterTableType, ObjectType, RoleSpecType
from pglast.parser import ParseError
from pglast.stream import RawStream
from psycopg import sql

# What resolves the object an owner change names, by its kind, to its oid (NULL: none).
_RESOLVE = {
    "relation": "SELECT to_regclass(%s)::oid",
    "routine": "SELECT to_regprocedure(%s)::oid",
    "routine_name": "SELECT to_regproc(%s)::oid",
    "type": "SELECT to_regtype(%s)::oid",
    "schema": "SELECT to_regnamespace(%s)::oid",
}
_ROUTINES = (ObjectType.OBJECT_FUNCTION, ObjectType.OBJECT_PROCEDURE, ObjectType.OBJECT_ROUTINE)
_TYPES = (ObjectType.OBJECT_DOMAIN, ObjectType.OBJECT_TYPE)
# The objects' current names, by oid, and the ALTER that gives each to a role.
_CURRENT = {
    "relation": "SELECT c.relkind::text, n.nspname::text, c.relname::text, '' FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s",
    "routine": "SELECT p.prokind::text, n.nspname::text, p.proname::text,"
    " pg_get_function_identity_arguments(p.oid) FROM pg_proc p"
    " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = %s",
    "type": "SELECT t.typtype::text, n.nspname::text, t.typname::text, '' FROM pg_type t"
    " JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = %s",
    "schema": "SELECT '', nspname::text, nspname::text, '' FROM pg_namespace WHERE oid = %s",
}
_RELATION_WORDS = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"}


@dataclass(frozen=True)
class OwnerChange:
    """An owner change a script asked for: the object (by oid), the role, where it was."""

    family: str  # a key of _CURRENT
    oid: int
    role: str
    line: int


@dataclass(frozen=True)
class DefaultsChange:
    """An ALTER DEFAULT PRIVILEGES a script asked for: the scripts' own role may not act
    for other roles, and its own defaults go with it (without FOR ROLE, they are those of
    the user importing, who is given the scripts' objects too)."""

    statement: str
    line: int


# What the superuser runs once the scripts are done.
AfterScripts = OwnerChange | DefaultsChange


def defaults_change(statement: str, line: int) -> DefaultsChange | None:
    """The statement, when it is exactly one ALTER DEFAULT PRIVILEGES."""
    try:
        parsed = parse_sql(statement)
    except ParseError:
        return None
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.AlterDefaultPrivilegesStmt):
        return None
    return DefaultsChange(statement, line)


def owner_change(statement: str) -> tuple[str, str, str, str] | None:
    """When the statement is exactly one ALTER ... OWNER TO a named role of an object whose
    owner the file holds: (family, the object's name for its to_reg function, the role,
    the same statement giving the object to CURRENT_USER instead)."""
    try:
        parsed = parse_sql(statement)
    except ParseError:
        return None
    if len(parsed) != 1:
        return None
    stmt = parsed[0].stmt
    if isinstance(stmt, ast.AlterTableStmt):
        commands = stmt.cmds or ()
        if len(commands) != 1 or commands[0].subtype != AlterTableType.AT_ChangeOwner:
            return None
        role = commands[0].newowner
        if stmt.relation is None:
            return None
        family, name = "relation", str(RawStream()(stmt.relation))
    elif isinstance(stmt, ast.AlterOwnerStmt):
        role = stmt.newowner
        family, name = _owned(stmt)
        if not family:
            return None
    else:
        return None
    if role.roletype != RoleSpecType.ROLESPEC_CSTRING or not role.rolename:
        return None  # CURRENT_USER and the like: the script's own role, as it runs
    wanted = str(role.rolename)
    role.roletype, role.rolename = RoleSpecType.ROLESPEC_CURRENT_USER, None
    return family, name, wanted, str(RawStream()(stmt))


def _owned(stmt: ast.AlterOwnerStmt) -> tuple[str, str]:
    kind, target = stmt.objectType, stmt.object
    if kind in _ROUTINES and isinstance(target, ast.ObjectWithArgs):
        if target.args_unspecified:
            return "routine_name", str(RawStream()(target))
        return "routine", str(RawStream()(target))
    if kind in _TYPES and isinstance(target, tuple):
        names = [str(part.sval) for part in target if isinstance(part, ast.String)]
        return "type", sql.Identifier(*names).as_string(None)
    if kind == ObjectType.OBJECT_SCHEMA and isinstance(target, ast.String):
        return "schema", sql.Identifier(str(target.sval)).as_string(None)
    return "", ""


def deferred(
    conn: psycopg.Connection[Any], statement: str, line: int
) -> OwnerChange | None:
    """Run an owner change as a no-op change to the script's own role (PostgreSQL checks the
    object and that the script owns it), and return it to be given later; None: not one,
    nothing run."""
    found = owner_change(statement)
    if found is None:
        return None
    family, name, role, as_own = found
    conn.execute(as_own.encode())
    row = conn.execute(_RESOLVE[family].encode(), (name,)).fetchone()
    if row is None or row[0] is None:
        return None
    return OwnerChange("routine" if family == "routine_name" else family, int(row[0]), role, line)


def give(admin: psycopg.Connection[Any], change: AfterScripts) -> None:
    """ALTER ... OWNER TO of the object as it is named now (gone since: nothing), or the
    ALTER DEFAULT PRIVILEGES as written."""
    if isinstance(change, DefaultsChange):
        admin.execute(change.statement.encode())  # parsed as exactly that one statement
        return
    row = admin.execute(_CURRENT[change.family].encode(), (change.oid,)).fetchone()
    if row is None:
        return
    detail, schema, name, arguments = (str(v) for v in row)
    role = sql.Identifier(change.role)
    if change.family == "schema":
        text = sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(name), role)
    elif change.family == "routine":
        # the identity arguments as PostgreSQL printed them
        text = sql.SQL("ALTER ROUTINE {}({}) OWNER TO {}").format(
            sql.Identifier(schema, name), sql.SQL(arguments), role
        )
    else:
        words = _RELATION_WORDS.get(detail, "TABLE") if change.family == "relation" else "TYPE"
        words = "DOMAIN" if change.family == "type" and detail == "d" else words
        text = sql.SQL("ALTER {} {} OWNER TO {}").format(
            sql.SQL(words), sql.Identifier(schema, name), role
        )
    admin.execute(text)
