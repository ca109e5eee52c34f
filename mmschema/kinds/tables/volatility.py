"""Added columns that rewrite the table: a STORED generated column, a serial or identity
column, a default that calls a volatile function (gen_random_uuid(), clock_timestamp(),
nextval(), ...), its own or its domain's, or a domain with constraints (checked against
every row): its value is computed for every existing row. Volatility is the target's
pg_proc's word."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

import psycopg
from pglast.parser import ParseError, parse_sql_json

from mmschema import changes as ch
from mmschema.catalogsql import table_sql
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import SERIAL_TYPES
from mmschema.model import QualifiedName


def called_functions(expression: str) -> set[str]:
    """The (unqualified) names of the functions an expression calls."""
    try:
        tree = json.loads(parse_sql_json(f"SELECT {expression}"))
    except ParseError:
        return set()
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            call = node.get("FuncCall")
            if call:
                names = [part.get("String", {}).get("sval") for part in call.get("funcname", [])]
                if names and names[-1]:
                    found.add(str(names[-1]))
            for value in node.values():
                walk(value)

    walk(tree)
    return found


@dataclass(frozen=True)
class Domain:
    """What ADD COLUMN of a domain type takes from the domain (the target's, or the file's
    when the plan makes or changes it)."""

    default: str | None
    constrained: bool  # CHECKs or NOT NULL: PostgreSQL checks them against every row
    base_type: str


@runtime_checkable
class DomainLike(Protocol):
    """A domain the file declares (kinds.domains.ManagedDomain)."""

    name: QualifiedName
    base_type: str
    default: str | None
    not_null: bool
    checks: tuple[object, ...]
    state: str


def domain_of(type_text: str, domains: Mapping[str, Domain]) -> tuple[str | None, bool]:
    """The default a column of this type gets from its domain (the nearest in a domain
    over a domain) and whether any domain on the way has constraints; (None, False) for
    a type that is no domain."""
    default: str | None = None
    constrained = False
    seen: set[str] = set()
    name = type_text.strip()
    while name in domains and name not in seen:
        seen.add(name)
        domain = domains[name]
        default = default if default is not None else domain.default
        constrained = constrained or domain.constrained
        name = domain.base_type.strip()
    return default, constrained


def with_rewriting_columns(
    conn: psycopg.Connection[Any],
    changes: list[ch.Change],
    domains: Mapping[str, Domain] | None = None,
) -> list[ch.Change]:
    """AddColumn changes marked `rewrites` where PostgreSQL fills every row. `domains`:
    the domains by every name a column's type may print them as."""
    domains = domains or {}
    inherited = {
        id(c): domain_of(c.column.type, domains) for c in changes if isinstance(c, cc.AddColumn)
    }
    calls: dict[int, set[str]] = {}
    for change in changes:
        if isinstance(change, cc.AddColumn):
            default = change.column.default or inherited[id(change)][0]
            if default:
                calls[id(change)] = called_functions(default)
    names = sorted(set().union(*calls.values())) if calls else []
    volatile: set[str] = set()
    if names:
        rows = conn.execute(table_sql("volatile_functions"), {"names": names}).fetchall()
        volatile = {str(row[0]) for row in rows}
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, cc.AddColumn):
            key = id(change)
            serial = change.column.type.strip().lower() in SERIAL_TYPES
            column = change.column
            filled = column.generated or column.identity or serial
            if filled or calls.get(key, set()) & volatile:
                change = replace(change, rewrites=True)
            reason = _domain_reason(change, *inherited[key])
            if reason is not None:
                change = replace(change, rewrites=True, domain_reason=reason)
        result.append(change)
    return result


def _domain_reason(change: cc.AddColumn, default: str | None, constrained: bool) -> str | None:
    """Why the column's domain makes the table rewrite, if it does: its constraints, or
    (the column having no default of its own) its default, volatile (marked already)."""
    column = change.column
    if column.generated or column.identity:
        return None
    if constrained:
        return f"its type {column.type} is a domain with constraints, checked for every row"
    if change.rewrites and column.default is None and default is not None:
        return f"its type {column.type} has the volatile default {default}"
    return None
