"""Offline checks of functions' and procedures' SQL text (pglast): keys, fields, definitions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import FunctionParameterMode
from pglast.parser import ParseError, parse_plpgsql_json
from pglast.stream import RawStream, maybe_double_quote_name
from psycopg import sql

from mmschema.desired.sqltext import SqlProblem
from mmschema.model import QualifiedName

_IDENTITY_MODES = ("FUNC_PARAM_DEFAULT", "FUNC_PARAM_IN", "FUNC_PARAM_INOUT", "FUNC_PARAM_VARIADIC")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_QUALIFIERS = ("public", "pg_catalog")
_VOLATILITIES = ("volatile", "stable", "immutable")
_PARALLEL = ("unsafe", "restricted", "safe")


@dataclass(frozen=True)
class Signature:
    """A routine's name and parameters: its identity is the name and the argument types."""

    name: QualifiedName
    parameters: str  # the parameter list as pglast prints it (names, modes, defaults)
    identity: tuple[str, ...]  # the argument types that tell overloads apart

    @property
    def key(self) -> str:
        return routine_key(self.name, self.identity)


def routine_key(name: QualifiedName, identity: Sequence[str]) -> str:
    """`schema.name(type, ...)`: how a function or procedure is named in plans and keys,
    its names quoted as SQL needs them (keys are read as SQL: unquoted names fold)."""
    return f"{sql_name(name)}({', '.join(identity)})"


def sql_name(name: QualifiedName, public: bool = True) -> str:
    """The name as SQL spells it (`public.` left out when `public` is false)."""
    bare = str(maybe_double_quote_name(name.name))
    if name.schema == "public" and not public:
        return bare
    return f"{maybe_double_quote_name(name.schema)}.{bare}"


def signature_key(text: str, procedure: bool = False) -> str:
    """The key of the routine a signature such as `audit()` or `ledger.f(int)` names."""
    return parse_signature(text, procedure).key


def parse_signature(text: str, procedure: bool = False) -> Signature:
    """`name(parameters)` as a key writes it; SqlProblem unless exactly that."""
    if "(" not in text:
        text = f"{text}()"
    verb = "PROCEDURE" if procedure else "FUNCTION"
    returns = "" if procedure else " RETURNS void"
    statement = _one_routine(f"CREATE {verb} {text}\n{returns} LANGUAGE sql AS ''", "signature")
    if [o.defname for o in statement.options or ()] != ["language", "as"] or _returns_extra(
        statement, procedure
    ):
        raise SqlProblem("is not one function name with its parameters, such as f(x integer)")
    return _signature(statement, procedure)


def check_returns(text: str) -> str:
    """A return type (`integer`, `SETOF t`, `TABLE (a int, b text)`); SqlProblem unless one."""
    statement = _one_routine(f"CREATE FUNCTION f()\n RETURNS {text}\n LANGUAGE sql AS ''", "type")
    modes = {p.mode for p in statement.parameters or ()}
    if [o.defname for o in statement.options or ()] != ["language", "as"] or (
        modes - {FunctionParameterMode.FUNC_PARAM_TABLE}
    ):
        raise SqlProblem("is not one return type")
    return text.strip()


def _returns_extra(statement: ast.CreateFunctionStmt, procedure: bool) -> bool:
    if procedure:
        return statement.returnType is not None
    returned = statement.returnType
    return returned is None or _type_text(returned) != "void" or bool(returned.setof)


def _one_routine(text: str, what: str) -> ast.CreateFunctionStmt:
    try:
        parsed = parse_sql(text)
    except ParseError as error:
        raise SqlProblem(f"is not a valid {what}: {error.args[0]}") from None
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.CreateFunctionStmt):
        raise SqlProblem(f"is not one {what}")
    statement: ast.CreateFunctionStmt = parsed[0].stmt
    return statement


def _signature(statement: ast.CreateFunctionStmt, procedure: bool) -> Signature:
    parts = [str(n.sval) for n in statement.funcname or ()]
    if len(parts) > 2:
        raise SqlProblem("has too many dotted parts (schema.name at most)")
    name = QualifiedName(*parts) if len(parts) == 2 else QualifiedName("public", parts[0])
    parameters = [
        p for p in statement.parameters or () if p.mode != FunctionParameterMode.FUNC_PARAM_TABLE
    ]
    modes = (*_IDENTITY_MODES, "FUNC_PARAM_OUT") if procedure else _IDENTITY_MODES
    identity = tuple(_type_text(p.argType) for p in parameters if p.mode.name in modes)
    printed = ", ".join(RawStream()(p) for p in parameters)
    return Signature(name, printed, identity)


def _type_text(type_name: ast.TypeName) -> str:
    """A type as identity compares it: no modifiers, no public or pg_catalog qualifier, and
    a built-in type by its SQL name whichever way it was written (int4 and integer alike)."""
    names = [str(n.sval) for n in type_name.names or ()]
    if len(names) == 2 and names[0] in _QUALIFIERS:
        names = names[1:]
    if len(names) == 1:
        builtin = _printed(["pg_catalog", names[0]], None)
        if builtin != f"pg_catalog.{names[0]}":
            return _printed(["pg_catalog", names[0]], type_name.arrayBounds)
    return _printed(names, type_name.arrayBounds)


def _printed(names: list[str], bounds: Any) -> str:
    strings = tuple(ast.String(sval=n) for n in names)
    return str(RawStream()(ast.TypeName(names=strings, arrayBounds=bounds, typemod=-1)))


def identity_of(arguments: str, procedure: bool) -> tuple[str, ...]:
    """The identity of the argument list PostgreSQL prints (pg_get_function_identity_arguments)."""
    return _identity_cached(arguments, procedure)


@lru_cache(maxsize=4096)
def _identity_cached(arguments: str, procedure: bool) -> tuple[str, ...]:
    return parse_signature(f"f({arguments})", procedure).identity


# --- a routine from the file's fields -------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """The CREATE statement a routine's entry stands for, checked: text and signature."""

    text: str
    signature: Signature
    language: str


def from_definition(text: str, procedure: bool) -> Declared:
    """`definition:` must be exactly one CREATE FUNCTION (or PROCEDURE)."""
    statement = _one_routine(text, "CREATE PROCEDURE" if procedure else "CREATE FUNCTION")
    if bool(statement.is_procedure) != procedure:
        wanted, found = ("procedure", "function") if procedure else ("function", "procedure")
        raise SqlProblem(f"creates a {found}, not a {wanted}")
    declared = Declared(text.strip().removesuffix(";"), _signature(statement, procedure), "")
    language = _option(statement, "language")
    return _checked_body(declared, statement, language)


def from_fields(
    signature: Signature, spec: Mapping[str, object], procedure: bool
) -> tuple[Declared | None, list[tuple[str, str]]]:
    """The CREATE statement the fields make, or the (field, problem) pairs that stop it."""
    problems: list[tuple[str, str]] = []
    language = spec.get("language", "sql")
    if not isinstance(language, str) or not _PLAIN_NAME.match(language):
        problems.append(("language", "is not a language name such as sql or plpgsql"))
        language = "sql"
    body = spec.get("body")
    if not isinstance(body, str):
        problems.append(("body", "is required (or a whole `definition`)"))
        body = ""
    clauses: list[str] = []
    if not procedure:
        returns = spec.get("returns")
        if not isinstance(returns, str):
            problems.append(("returns", "is required (or a whole `definition`)"))
            returns = "void"
        try:
            clauses.append(f"RETURNS {check_returns(returns if isinstance(returns, str) else '')}")
        except SqlProblem as problem:
            problems.append(("returns", str(problem)))
    clauses.append(f"LANGUAGE {language.lower()}")
    clauses += _attributes(spec, problems)
    head = f"CREATE OR REPLACE {'PROCEDURE' if procedure else 'FUNCTION'}"
    lines = [f"{head} {sql_name(signature.name)}({signature.parameters})", *clauses]
    lines.append(f"AS {sql.Literal(body).as_string(None)}")
    if problems:
        return None, problems
    text = "\n ".join(lines)
    try:
        statement = _one_routine(text, "routine")
    except SqlProblem as problem:  # each field was checked: this is a last line of defence
        return None, [("fields", str(problem))]
    if _signature(statement, procedure) != signature:
        return None, [("body", "does not keep to its own field")]
    try:
        return _checked_body(Declared(text, signature, language.lower()), statement, language), []
    except SqlProblem as problem:
        return None, [("body", str(problem))]


def _attributes(spec: Mapping[str, object], problems: list[tuple[str, str]]) -> list[str]:
    clauses: list[str] = []
    volatility = spec.get("volatility")
    if volatility in _VOLATILITIES:  # else the JSON Schema check reports it
        clauses.append(str(volatility).upper())
    strict = spec.get("strict")
    if isinstance(strict, bool):
        clauses.append("STRICT" if strict else "CALLED ON NULL INPUT")
    definer = spec.get("security_definer")
    if isinstance(definer, bool):
        clauses.append("SECURITY DEFINER" if definer else "SECURITY INVOKER")
    if spec.get("leakproof") is True:
        clauses.append("LEAKPROOF")
    parallel = spec.get("parallel")
    if parallel in _PARALLEL:
        clauses.append(f"PARALLEL {str(parallel).upper()}")
    for word in ("cost", "rows"):
        value = spec.get(word)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            clauses.append(f"{word.upper()} {value!r}")
    settings = spec.get("set")
    for name, value in settings.items() if isinstance(settings, dict) else ():
        if not isinstance(name, str) or not _SETTING_NAME.match(name):
            problems.append(("set", f"{name!r} is not a setting name"))
            continue
        values = value if isinstance(value, list) else [value]
        literals = [sql.Literal(str(v)).as_string(None) for v in values]
        clauses.append(f"SET {name} TO {', '.join(literals)}")
    return clauses


def _option(statement: ast.CreateFunctionStmt, name: str) -> str:
    for option in statement.options or ():
        if option.defname == name and isinstance(option.arg, ast.String):
            return str(option.arg.sval).lower()
    return ""


def _checked_body(declared: Declared, statement: ast.CreateFunctionStmt, language: str) -> Declared:
    """SQL bodies must parse as SQL, PL/pgSQL ones as PL/pgSQL (pglast's parsers)."""
    language = language.lower()
    body = _body(statement)
    if language == "sql" and body is not None:
        try:
            parse_sql(body)
        except ParseError as error:
            raise SqlProblem(f"is not valid SQL: {error.args[0]}") from None
    elif language == "plpgsql":
        try:
            parse_plpgsql_json(declared.text)
        except ParseError as error:
            raise SqlProblem(f"is not valid PL/pgSQL: {error.args[0]}") from None
    return Declared(declared.text, declared.signature, language)


def _body(statement: ast.CreateFunctionStmt) -> str | None:
    """The string body (None for BEGIN ATOMIC, which the statement's parse covered)."""
    for option in statement.options or ():
        if option.defname == "as":
            items: Any = option.arg
            found = list(items) if isinstance(items, (list, tuple)) else [items]
            return str(found[0].sval) if found and isinstance(found[0], ast.String) else None
    return None


__all__ = [
    "Declared",
    "Signature",
    "SqlProblem",
    "check_returns",
    "from_definition",
    "from_fields",
    "identity_of",
    "parse_signature",
    "routine_key",
    "signature_key",
    "sql_name",
]
