"""Offline checks of the file's SQL text with libpg_query (pglast): expressions, types, queries."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast.parser import ParseError, parse_sql_json

_BARE_SELECT_KEYS = frozenset({"targetList", "limitOption", "op"})
_WRITING_NODES = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})
_INTEGER_TYPES = frozenset({"int2", "int4", "int8"})
_TRAILING_COMMENT = (
    "ends in a -- comment, which would swallow the SQL written after it; remove it or use /* ... */"
)


class SqlProblem(ValueError):
    """Why a piece of SQL text is rejected, as a phrase: 'is not one SQL expression'."""


@dataclass(frozen=True)
class TypeName:
    """A parsed type: its (possibly qualified) name and whether it has modifiers or is an array."""

    names: tuple[str, ...]
    modifiers: bool
    array: bool

    def is_integer(self) -> bool:
        """smallint, integer or bigint (what an identity column needs)."""
        builtin = len(self.names) == 1 or self.names[0] == "pg_catalog"
        plain = not self.modifiers and not self.array
        return builtin and plain and self.names[-1] in _INTEGER_TYPES


def check_expression(text: str) -> None:
    """Raise SqlProblem unless the text is exactly one SQL expression."""
    problem = _expression_problem(text)
    if problem is not None:
        raise SqlProblem(problem)


def check_type(text: str) -> TypeName:
    """Parse a type as written in SQL (`varchar(32)`, `text[]`); SqlProblem unless one type."""
    found = _parse_type(text)
    if isinstance(found, str):
        raise SqlProblem(found)
    return found


@lru_cache(maxsize=4096)
def _expression_problem(text: str) -> str | None:
    """Why the text is not exactly one SQL expression, if it is not.

    The text must be the only target of a SELECT inside parentheses (so it cannot close the
    statement, add clauses or targets) and one of two targets without them, both on the same
    line and on its own lines (so it cannot unbalance parentheses nor end in a line comment).
    """
    if not text.strip():
        return "is empty"
    wrapped = _try_parse(f"SELECT ({text}\n)")
    if wrapped is None or not _bare_select(wrapped, 1):
        return _syntax_problem(f"SELECT {text}") or "is not one SQL expression"
    return _followed_problem(f"SELECT {text}", "SQL expression")


@lru_cache(maxsize=4096)
def _parse_type(text: str) -> TypeName | str:
    """The parsed type, or why the text is not exactly one type name."""
    if not text.strip():
        return "is empty"
    tree = _try_parse(f"SELECT NULL::{text}\n")
    if tree is None:
        return _syntax_problem(f"SELECT NULL::{text}\n") or "is not one type name"
    cast = _targets(tree)[0].get("val", {}).get("TypeCast") if _bare_select(tree, 1) else None
    if not isinstance(cast, dict) or not _is_null_cast(cast):
        return "is not one type name"
    problem = _followed_problem(f"SELECT NULL::{text}", "type name")
    if problem is not None:
        return problem
    type_name = cast["typeName"]
    names = tuple(str(n.get("String", {}).get("sval", "")) for n in type_name.get("names", []))
    return TypeName(names, bool(type_name.get("typmods")), bool(type_name.get("arrayBounds")))


def check_query(text: str) -> str:
    """The text of one read-only SELECT query, without a trailing semicolon; else SqlProblem."""
    if not text.strip():
        raise SqlProblem("is empty")
    tree = _parse(text)
    statements = tree.get("stmts", [])
    if len(statements) != 1:
        raise SqlProblem(f"must be one query, not {len(statements)} statements")
    statement = statements[0].get("stmt", {})
    if "SelectStmt" not in statement:
        raise SqlProblem(f"must be a SELECT query, not {_statement_kind(statement)}")
    if _contains(statement, _WRITING_NODES):
        raise SqlProblem("must only read (it holds INSERT, UPDATE, DELETE or MERGE)")
    if _contains(statement, frozenset({"intoClause"})):
        raise SqlProblem("must only read (SELECT INTO creates a table)")
    if _contains(statement, frozenset({"lockingClause"})):
        raise SqlProblem("must not lock rows (FOR UPDATE/SHARE)")
    length = int(statements[0].get("stmt_len", 0))
    if length:
        cut = int(statements[0].get("stmt_location", 0)) + length
        text = text.encode()[:cut].decode()
    return text.strip()


def relations_read(text: str) -> list[tuple[str | None, str]]:
    """The (schema or None, name) of every relation a parsed query names (CTE names too)."""
    found: list[tuple[str | None, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("RangeVar")
            if isinstance(ref, dict) and isinstance(ref.get("relname"), str):
                found.append((ref.get("schemaname"), ref["relname"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(_try_parse(text))
    return found


def _parse(sql: str) -> dict[str, Any]:
    try:
        tree: dict[str, Any] = json.loads(parse_sql_json(sql))
    except ParseError as error:
        raise SqlProblem(f"is not valid SQL: {error.args[0]}") from None
    return tree


def _try_parse(sql: str) -> dict[str, Any] | None:
    try:
        return _parse(sql)
    except SqlProblem:
        return None


def _syntax_problem(sql: str) -> str | None:
    try:
        _parse(sql)
    except SqlProblem as problem:
        return str(problem)
    return None


def _followed_problem(select: str, what: str) -> str | None:
    """The select's one target must stay one when another follows, on its line or the next."""
    below = _try_parse(f"{select}\n, 0")
    below_ok = below is not None and _bare_select(below, 2)
    inline = _try_parse(f"{select}, 0") if below_ok else None
    if inline is not None and _bare_select(inline, 2):
        return None
    return _TRAILING_COMMENT if below_ok else f"is not one {what}"


def _targets(tree: dict[str, Any]) -> list[dict[str, Any]]:
    select = tree["stmts"][0]["stmt"]["SelectStmt"]
    return [t.get("ResTarget", {}) for t in select.get("targetList", [])]


def _bare_select(tree: dict[str, Any], targets: int) -> bool:
    """One `SELECT a, b, ...` statement with exactly that many unnamed targets, no clauses."""
    statements = tree.get("stmts", [])
    if len(statements) != 1:
        return False
    select = statements[0].get("stmt", {}).get("SelectStmt")
    if not isinstance(select, dict) or not set(select) <= _BARE_SELECT_KEYS:
        return False
    if select.get("op") != "SETOP_NONE":
        return False
    found = _targets(tree)
    return len(found) == targets and all("name" not in t and "val" in t for t in found)


def _is_null_cast(cast: object) -> bool:
    if not isinstance(cast, dict):
        return False
    argument = cast.get("arg", {}).get("A_Const", {})
    type_name = cast.get("typeName", {})
    special = type_name.get("pct_type") or type_name.get("setof")
    return argument.get("isnull") is True and not special


def _contains(node: object, keys: frozenset[str]) -> bool:
    if isinstance(node, dict):
        return any(k in keys or _contains(v, keys) for k, v in node.items())
    if isinstance(node, list):
        return any(_contains(item, keys) for item in node)
    return False


def _statement_kind(statement: dict[str, Any]) -> str:
    kind = next(iter(statement), "an empty statement")
    return kind.removesuffix("Stmt") or kind


def check_exclusion(text: str) -> None:
    """Raise SqlProblem unless the text is one EXCLUDE constraint's body (what follows
    EXCLUDE: `USING gist (room WITH =, during WITH &&) WHERE (...)`)."""
    if "--" in text:
        raise SqlProblem(_TRAILING_COMMENT)
    try:
        tree = json.loads(parse_sql_json(f"ALTER TABLE t ADD CONSTRAINT c EXCLUDE {text}"))
    except ParseError as error:
        raise SqlProblem(f"is not the body of an EXCLUDE constraint ({error})") from error
    statements = tree.get("stmts", [])
    commands = statements[0]["stmt"].get("AlterTableStmt", {}).get("cmds", []) if statements else []
    if len(statements) != 1 or len(commands) != 1:
        raise SqlProblem("is not the body of one EXCLUDE constraint")


_PARTITION_BY_KEYS = frozenset({"relation", "partspec", "oncommit"})
_BOUND_KEYS = frozenset({"relation", "inhRelations", "partbound", "oncommit"})


def check_partition_by(text: str) -> None:
    """Raise SqlProblem unless the text is one PARTITION BY clause without its keywords
    (`RANGE (created_at)`), as it is written after `CREATE TABLE ... PARTITION BY`."""
    what = "the key of one PARTITION BY clause (such as RANGE (at) or LIST (region))"
    _check_clause(
        "CREATE TABLE x () PARTITION BY {}",
        text,
        " TABLESPACE mmschema_next",
        lambda create: set(create) <= _PARTITION_BY_KEYS and "partspec" in create,
        lambda create: create.get("tablespacename") == "mmschema_next",
        what,
    )


def check_partition_bound(text: str) -> None:
    """Raise SqlProblem unless the text is one partition bound (`FOR VALUES IN ('eu')`,
    `DEFAULT`), as written after `PARTITION OF parent` and `ATTACH PARTITION name`."""
    what = "one partition bound (FOR VALUES ... or DEFAULT)"
    _check_clause(
        "CREATE TABLE x PARTITION OF y {}",
        text,
        " PARTITION BY LIST (mmschema_next)",
        lambda create: set(create) <= _BOUND_KEYS and "partbound" in create,
        lambda create: "partspec" in create,
        what,
    )
    attach = _try_parse(f"ALTER TABLE y ATTACH PARTITION x {text}")
    statements = attach.get("stmts", []) if attach is not None else []
    alter = statements[0].get("stmt", {}).get("AlterTableStmt", {}) if statements else {}
    if len(statements) != 1 or len(alter.get("cmds", [])) != 1:
        raise SqlProblem(f"is not {what}")


def _check_clause(
    template: str,
    text: str,
    follower: str,
    alone: Callable[[dict[str, Any]], bool],
    followed: Callable[[dict[str, Any]], bool],
    what: str,
) -> None:
    """The text, put in the template, must make one CREATE TABLE that `alone` accepts, and
    stay so with the follower written after it on the same line (nothing swallows it)."""
    if not text.strip():
        raise SqlProblem("is empty")
    statement = template.format(text)
    create = _one_create(_parse(statement))
    if create is None or not alone(create):
        raise SqlProblem(f"is not {what}")
    create = _one_create(_try_parse(statement + follower) or {})
    if create is None or not followed(create):
        below = _one_create(_try_parse(f"{statement}\n{follower}") or {})
        raise SqlProblem(_TRAILING_COMMENT if below and followed(below) else f"is not {what}")


def _one_create(tree: dict[str, Any]) -> dict[str, Any] | None:
    statements = tree.get("stmts", [])
    if len(statements) != 1:
        return None
    create = statements[0].get("stmt", {}).get("CreateStmt")
    return create if isinstance(create, dict) else None
