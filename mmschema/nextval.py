"""The sequences a column default names in its nextval('...') calls (parsed, not matched)."""

from __future__ import annotations

import json
import re
from typing import Any

from pglast.parser import ParseError, parse_sql_json

IDENTIFIER = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
SEQUENCE_NAME = re.compile(rf"^({IDENTIFIER}\.)?{IDENTIFIER}$")


def referenced_sequences(expression: str) -> list[str]:
    """Sequences named in nextval('...') calls, so the scratch server can have them too."""
    if "nextval" not in expression:
        return []
    try:
        tree = json.loads(parse_sql_json(f"SELECT {expression}"))
    except ParseError:
        return []
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            call = node.get("FuncCall")
            if call and call.get("args"):
                names = [part.get("String", {}).get("sval") for part in call.get("funcname", [])]
                argument = call["args"][0]
                argument = argument.get("TypeCast", {}).get("arg", argument)
                text = argument.get("A_Const", {}).get("sval", {}).get("sval")
                if names[-1:] == ["nextval"] and text and SEQUENCE_NAME.match(text):
                    found.append(text)
            for value in node.values():
                walk(value)

    walk(tree)
    return found
