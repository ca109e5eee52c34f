"""Shared pieces for building declared objects from plain YAML values: positions, SQL, names."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from mmschema.desired.checks import BadName, Report, first_duplicates, name_problem, shown
from mmschema.desired.checks import parse_table_name as _parse_table_name
from mmschema.desired.declared import DeclaredColumn, Source
from mmschema.desired.sqltext import SqlProblem, check_expression
from mmschema.desired.yamlpos import JsonPath, YamlDocument
from mmschema.model import QualifiedName

_DECIMAL = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


class Context:
    """One file being built: its positions, and the report errors go to."""

    def __init__(self, path: str, document: YamlDocument, report: Report) -> None:
        self.path = path
        self.document = document
        self.report = report
        self.faulty: list[JsonPath] = []  # where the format check found a fault
        report.file(path)

    def after_fault(self, path: JsonPath) -> bool:
        """The path holds or lies within a value the format check refused: what a later
        check finds there (a missing field, an empty list) is that fault said again."""
        return any(f[: len(path)] == path or path[: len(f)] == f for f in self.faulty)

    def at(self, path: JsonPath) -> Source:
        """Where the value at this path (or, when it is missing, its container) was written."""
        while path not in self.document.positions and path:
            path = path[:-1]
        line, column = self.document.positions.get(path, (1, 1))
        return Source(self.path, line, column)

    def key(self, path: JsonPath) -> Source:
        """Where the key naming the value at this path was written (the name of a column...)."""
        position = self.document.key_positions.get(path)
        return Source(self.path, *position) if position else self.at(path)

    def written(self, path: JsonPath) -> str | None:
        """A scalar's text as written in the file."""
        return self.document.scalar_text.get(path)

    def error(self, path: JsonPath, message: str) -> None:
        if not self.after_fault(path):
            self.report.add(self.at(path), message)

    def key_error(self, path: JsonPath, message: str) -> None:
        if not self.after_fault(path):
            self.report.add(self.key(path), message)

    def check_name(self, path: JsonPath, what: str, name: str) -> None:
        problem = name_problem(name)
        if problem is not None:
            self.key_error(path, f"{what} {problem}")

    def expression(self, path: JsonPath, value: object, what: str) -> str | None:
        """SQL expression text (stripped) after checking it is exactly one expression."""
        if not isinstance(value, str) or not value:
            return None  # the JSON Schema check reports these
        text = value.strip()
        try:
            check_expression(text)
        except SqlProblem as problem:
            self.error(path, f"{what} {problem}")
        return text

    def literal(self, path: JsonPath, value: object, what: str) -> str | None:
        """A default-like value as SQL: strings are expressions, YAML scalars their literal."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return number_text(value, self.written(path))
        return self.expression(path, value, what)

    def table_name(
        self, path: JsonPath, text: str, default_schema: str, what: str
    ) -> QualifiedName:
        """Read a table name; on error report it and fall back to the text as the name."""
        top_key = path[:1] in (("tables",), ("enums",)) and len(path) == 2
        source = self.key(path) if top_key else self.at(path)
        try:
            name = _parse_table_name(text, default_schema)
        except BadName as problem:
            self.report.add(source, f"{what} '{text}' {problem}")
            return QualifiedName(default_schema, text)
        for part in (name.schema, name.name):
            problem_text = name_problem(part)
            if problem_text is not None:
                self.report.add(source, f"{what} '{text}': '{part}' {problem_text}")
        return name


def number_text(value: int | float, written: str | None) -> str:
    """A YAML number as a SQL literal: exact as written when that is a decimal numeral."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "'NaN'"
    if math.isinf(value):
        return "'Infinity'" if value > 0 else "'-Infinity'"
    if written is not None and _DECIMAL.fullmatch(written):
        return written.removeprefix("+")
    return repr(value)


def text_of(value: object) -> str | None:
    return value if isinstance(value, str) else None


def mapping_of(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def list_of(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def bool_of(value: object, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def deferrable_of(value: object) -> tuple[bool, bool]:
    """`deferrable` as (DEFERRABLE, INITIALLY DEFERRED)."""
    if value == "initially_deferred":
        return True, True
    return value is True, False


@dataclass
class Scope:
    """A table being built: its name and declared columns, for checking references to them."""

    context: Context
    name: QualifiedName
    path: JsonPath
    columns: dict[str, DeclaredColumn] = field(default_factory=dict)
    present: bool = True

    def uses(self, path: JsonPath, column: str, what: str) -> None:
        if not self.present:
            return
        declared = self.columns.get(column)
        table_path = self.path[:2]  # ("tables", key), also in an index's scope
        if declared is None and self.context.after_fault((*table_path, "columns", column)):
            return  # declared, but in a form the format check refused
        if declared is None:
            table = shown(self.name)
            message = f"{what} uses column '{column}', which table {table} does not declare"
            self.context.error(path, message)
        elif declared.state != "present":
            self.context.error(
                path, f"{what} uses column '{column}', which is declared state: absent"
            )

    def column_list(self, path: JsonPath, value: object, what: str) -> tuple[str, ...]:
        names: list[str] = []
        for i, item in enumerate(list_of(value)):
            if isinstance(item, str):
                self.uses((*path, i), item, what)
                names.append(item)
        return tuple(names)

    def check_renames(self, entries: list[tuple[str, str | None, JsonPath]], kind: str) -> None:
        """An object renamed from a name the table also declares would be both kept and moved."""
        declared = {name for name, _, _ in entries}
        renamed: dict[str, str] = {}
        for name, old, path in entries:
            if old is not None and old in renamed:
                self.context.error(
                    (*path, "renamed_from"),
                    f"{kind} '{name}' is renamed_from '{old}', as {kind} '{renamed[old]}' is "
                    f"already; one {kind} can become only one",
                )
                continue
            if old is not None:
                renamed[old] = name
            if old is not None and old != name and old in declared:
                self.context.error(
                    (*path, "renamed_from"),
                    f"{kind} '{name}' is renamed_from '{old}', which table {shown(self.name)} "
                    "also declares",
                )

    def check_constraint_names(self, names: list[tuple[str, Source]]) -> None:
        for name, first, again in first_duplicates(names):
            self.context.report.add(
                again,
                f"constraint name '{name}' is used twice in table {shown(self.name)} "
                f"(first at {first})",
            )
