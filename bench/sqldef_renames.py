"""sqldef's rename annotations in a pair's after.sql, written into the dumped file as the keys
mmschema declares renames with (a dump cannot know a rename; the pair's author said it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pglast
import yaml
from pglast import ast

from mmschema.kinds.tables.dump import table_key
from mmschema.model import QualifiedName

NAME = r'"(?:[^"]|"")+"|[^\s"*,;()]+'
ANNOTATION = re.compile(rf"@renamed\s+from=({NAME})")
COLUMN_LINE = re.compile(rf"^\s*({NAME})\s")
LABEL = re.compile(r"'((?:[^']|'')*)'\s*(?:/\*|--)\s*@renamed\s+from=('(?:[^']|'')*'|[^\s*,;)]+)")


@dataclass(frozen=True)
class Rename:
    kind: str  # "table" | "column" | "label"
    owner: QualifiedName  # the table or enum
    new: str
    old: str


def identifier(text: str) -> str:
    """An SQL name as PostgreSQL keeps it: quoted as written, else folded to lower case."""
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    return text.lower()


def literal(text: str) -> str:
    return text[1:-1].replace("''", "'") if text.startswith("'") else text


def found_renames(after_sql: str) -> list[Rename]:
    """The renames the annotations of CREATE TABLE and CREATE TYPE ... AS ENUM declare
    (a renamed enum type itself is left out: the file has no key for it)."""
    found: list[Rename] = []
    for text in pglast.split(after_sql):
        if "@renamed" not in text:
            continue
        statement = pglast.parse_sql(text)[0].stmt
        if isinstance(statement, ast.CreateStmt) and statement.relation is not None:
            relation = statement.relation
            table = QualifiedName(relation.schemaname or "public", str(relation.relname))
            first, *rest = text.splitlines()
            if match := ANNOTATION.search(first):
                found.append(Rename("table", table, table.name, identifier(match[1])))
            for line in rest:
                annotated, column = ANNOTATION.search(line), COLUMN_LINE.match(line)
                if annotated and column:
                    found.append(
                        Rename("column", table, identifier(column[1]), identifier(annotated[1]))
                    )
        elif isinstance(statement, ast.CreateEnumStmt):
            names = [n.sval for n in statement.typeName or ()]
            enum = QualifiedName(names[0] if len(names) > 1 else "public", names[-1])
            for match in LABEL.finditer(text):
                found.append(Rename("label", enum, literal(match[1]), literal(match[2])))
    return found


def with_renames(dumped: str, after_sql: str) -> tuple[str, int]:
    """The dumped file with each annotated rename declared, and how many were."""
    renames = found_renames(after_sql)
    if not renames:
        return dumped, 0
    document: dict[str, Any] = yaml.safe_load(dumped)
    declared = 0
    for rename in renames:
        key = table_key(rename.owner)
        if rename.kind == "label":
            enum = document.get("enums", {}).get(key)
            if enum is not None:
                enum.setdefault("renamed_labels", {})[rename.new] = rename.old
                declared += 1
            continue
        table = document.get("tables", {}).get(key)
        if table is None:
            continue
        if rename.kind == "table":
            table["renamed_from"] = rename.old
            declared += 1
        elif (column := table.get("columns", {}).get(rename.new)) is not None:
            column["renamed_from"] = rename.old
            declared += 1
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True), declared
