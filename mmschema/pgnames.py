"""PostgreSQL's own choice of a name for an index it creates on a partition, so that an
index built piece by piece gets the names CREATE INDEX on the parent would give."""

from __future__ import annotations

import re
from collections.abc import Collection

from mmschema.kinds.tables.model import Index

NAMEDATALEN = 64
FUNCTION_CALL = re.compile(r'^"?([A-Za-z_][A-Za-z0-9_$]*)"?\s*\(')


def _clip(text: str, limit: int) -> str:
    """The longest prefix of whole characters within `limit` bytes (pg_mbcliplen)."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")


def index_column_names(index: Index) -> list[str]:
    """The index's attribute names: a column's name, a function call's name, else "expr";
    a repeated one numbered (ChooseIndexColumnNames)."""
    result: list[str] = []
    keys = [k.expr if k.is_column else _expression_name(k.expr) for k in index.keys]
    for original in [*keys, *index.include]:
        name, number = original, 0
        while name in result:
            number += 1
            suffix = str(number)
            name = _clip(original, NAMEDATALEN - 1 - len(suffix)) + suffix
        result.append(name)
    return result


def _expression_name(expression: str) -> str:
    match = FUNCTION_CALL.match(expression.strip().lstrip("("))
    return match.group(1) if match else "expr"


def object_name(name1: str, name2: str, label: str) -> str:
    """makeObjectName: name1_name2_label within NAMEDATALEN, the longer part cut first."""
    available = NAMEDATALEN - 1 - (len(label) + 1) - (1 if name2 else 0)
    first, second = len(name1.encode()), len(name2.encode())
    while first + second > available:
        if first > second:
            first -= 1
        else:
            second -= 1
    head = _clip(name1, first)
    tail = _clip(name2, second)
    return f"{head}_{tail}_{label}" if name2 else f"{head}_{label}"


def addition(names: list[str]) -> str:
    """ChooseIndexNameAddition: the names joined by "_", stopped once NAMEDATALEN long."""
    text = ""
    for name in names:
        if text:
            text += "_"
        text += name
        if len(text.encode()) >= NAMEDATALEN:
            break
    return _clip(text, NAMEDATALEN - 1)


def partition_index_name(table: str, index: Index, taken: Collection[str] = ()) -> str:
    """The name PostgreSQL gives the part of `index` it creates on partition `table`
    (ChooseRelationName), `taken` being the names in use in that schema."""
    middle = addition(index_column_names(index))
    label, number = "idx", 0
    while True:
        name = object_name(table, middle, label)
        if name not in taken:
            return name
        number += 1
        label = f"idx{number}"
