"""Printed expressions that do not parse back to themselves, written the way that does.

`status IN ('a', 'b')` on a varchar column is stored as a comparison with an array of
varchar constants cast to text[], and printed so; that text, parsed again, casts each
element instead (`ARRAY[('a'::character varying)::text, ...]`): another expression.
Written back as the IN list it came from, it parses to the stored one again."""

from __future__ import annotations

import re

_ELEMENT = r"'(?:[^']|'')*'::character varying"
_IN_LIST = re.compile(
    r"^\(\((?P<column>[a-z_][a-z0-9_$]*|\"(?:[^\"]|\"\")+\")\)::text "
    r"(?P<op>= ANY|<> ALL) \(\(ARRAY\[(?P<items>" + _ELEMENT + r"(?:, " + _ELEMENT + r")*)"
    r"\]\)::text\[\]\)\)$"
)
_LITERAL = re.compile(r"('(?:[^']|'')*')::character varying")


def reparsable(expression: str) -> str:
    """The expression, with a printed varchar IN list written as an IN list."""
    match = _IN_LIST.match(expression)
    if match is None:
        return expression
    items = ", ".join(_LITERAL.findall(match["items"]))
    negated = " NOT" if match["op"] == "<> ALL" else ""
    return f"{match['column']}{negated} IN ({items})"
