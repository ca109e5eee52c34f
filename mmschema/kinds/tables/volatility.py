"""Added columns that rewrite the table: a STORED generated column, a serial or identity
column, or a default that calls a volatile function (gen_random_uuid(), clock_timestamp(),
nextval(), ...): its value is computed for every existing row. Volatility is the
target's pg_proc's word."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import psycopg
from pglast.parser import ParseError, parse_sql_json

from mmschema import changes as ch
from mmschema.catalogsql import table_sql
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import SERIAL_TYPES


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


def with_rewriting_columns(
    conn: psycopg.Connection[Any], changes: list[ch.Change]
) -> list[ch.Change]:
    """AddColumn changes marked `rewrites` where PostgreSQL fills every row."""
    calls = {
        id(c): called_functions(c.column.default)
        for c in changes
        if isinstance(c, cc.AddColumn) and c.column.default
    }
    names = sorted(set().union(*calls.values())) if calls else []
    volatile: set[str] = set()
    if names:
        rows = conn.execute(table_sql("volatile_functions"), {"names": names}).fetchall()
        volatile = {str(row[0]) for row in rows}
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, cc.AddColumn):
            serial = change.column.type.strip().lower() in SERIAL_TYPES
            column = change.column
            filled = column.generated or column.identity or serial
            if filled or calls.get(id(change), set()) & volatile:
                change = replace(change, rewrites=True)
        result.append(change)
    return result
