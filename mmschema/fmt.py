"""`mmschema fmt`: rewrites a schema file's SQL values into PostgreSQL's own spelling.

Types, defaults, generated columns, checks, index keys and predicates, exclusions and
partition keys and bounds are put through the scratch server (as plan does) and written
back in place: only the scalars whose spelling changes are replaced, so comments, order,
layout and everything else stay as they were. A file so written plans without the
scratch server where canonical.py can tell (see README).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mmschema.desired.checks import BadName, parse_table_name
from mmschema.desired.declared import DeclaredTable
from mmschema.kinds.tables.model import Table
from mmschema.model import Catalog, QualifiedName

Path_ = tuple[str | int, ...]
PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]*")
SERIAL = {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"}


@dataclass(frozen=True)
class Rewrite:
    """One scalar of a file to write in PostgreSQL's spelling."""

    start: int
    end: int
    text: str


def spelled_values(table: Table, spec: dict[str, object]) -> Iterator[tuple[Path_, str]]:
    """(path within the table's mapping, PostgreSQL's text) of each SQL value it declares."""
    columns = {c.name: c for c in table.columns}
    for name, column_spec in _mapping(spec.get("columns")).items():
        column = columns.get(name)
        column_spec = _mapping(column_spec)
        if column is None:
            continue
        yield ("columns", name, "type"), column.type
        if "default" in column_spec and column.default is not None:
            yield ("columns", name, "default"), column.default
        if "generated" in column_spec and column.generated is not None:
            yield ("columns", name, "generated"), column.generated
    checks = {c.name: c.expression for c in table.checks}
    for name, check_spec in _mapping(spec.get("checks")).items():
        if name in checks:
            path: Path_ = (
                ("checks", name, "expr")
                if isinstance(check_spec, dict)
                else (
                    "checks",
                    name,
                )
            )
            yield path, checks[name]
    indexes = {i.name: i for i in table.indexes}
    for name, index_spec in _mapping(spec.get("indexes")).items():
        index = indexes.get(name)
        if index is None:
            continue
        if index.where is not None:
            yield ("indexes", name, "where"), index.where
        entries = _mapping(index_spec).get("columns")
        for position, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and "expr" in entry and position < len(index.keys):
                key = index.keys[position]
                if not key.is_column:
                    yield ("indexes", name, "columns", position, "expr"), key.expr
    exclusions = {x.name: x.definition.removeprefix("EXCLUDE ") for x in table.exclusions}
    for name in _mapping(spec.get("exclude")):
        if name in exclusions:
            yield ("exclude", name), exclusions[name]
    if "partition_by" in spec and table.partition_by is not None:
        yield ("partition_by",), table.partition_by
    if "partition_of" in spec and table.partition_bound is not None:
        yield ("partition_of", "bound"), table.partition_bound


def spelled_otherwise(declared: DeclaredTable, table: Table) -> bool:
    """Whether fmt would rewrite one of the table's values: spelled_values() read from the
    loaded file rather than from its text (the values that differ from `table`'s)."""
    printed = {c.name: c for c in table.columns}
    for column in declared.present_columns():
        other = printed.get(column.name)
        if other is None:
            continue
        if column.type.strip().lower() not in SERIAL and column.type.strip() != other.type:
            return True
        if None not in (column.default, other.default) and column.default != other.default:
            return True
        if None not in (column.generated, other.generated) and column.generated != other.generated:
            return True
    checks = {c.name: c.expression for c in table.checks}
    if any(checks.get(c.name, c.expr) != c.expr for c in declared.checks):
        return True
    indexes = {i.name: i for i in table.indexes}
    for index in declared.present_indexes():
        built = indexes.get(index.name)
        if built is None:
            continue
        if index.where is not None and index.where != built.where:
            return True
        for key, built_key in zip(index.keys, built.keys, strict=False):
            if key.expr is not None and not built_key.is_column and key.expr != built_key.expr:
                return True
    exclusions = {x.name: x.definition.removeprefix("EXCLUDE ") for x in table.exclusions}
    if any(exclusions.get(x.name, x.body) != x.body for x in declared.exclusions):
        return True
    return any(
        mine is not None and built is not None and mine != built
        for mine, built in (
            (declared.partition_by, table.partition_by),
            (declared.partition_bound, table.partition_bound),
        )
    )


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def scalar(text: str) -> str:
    """The value as a YAML scalar: plain where that reads back the same, else double-quoted."""
    if PLAIN.fullmatch(text) and text == text.strip() and yaml.safe_load(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


def node_at(node: Node, path: Path_) -> Node | None:
    for step in path:
        if isinstance(node, MappingNode) and isinstance(step, str):
            found = [v for k, v in node.value if isinstance(k, ScalarNode) and k.value == step]
            if not found:
                return None
            node = found[-1]
        elif isinstance(node, SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return None
            node = node.value[step]
        else:
            return None
    return node


def rewrites(text: str, name: str, normalized: Catalog) -> list[Rewrite]:
    """What to replace in one file so its SQL values read as PostgreSQL prints them."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    tables = node_at(root, ("tables",)) if root is not None else None
    if not isinstance(tables, MappingNode):
        return []
    values = yaml.safe_load(text)
    specs = _mapping(_mapping(values).get("tables"))
    found: list[Rewrite] = []
    for key_node, table_node in tables.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else None
        if not isinstance(key, str):
            continue
        try:
            table_name: QualifiedName = parse_table_name(key)
        except BadName:
            continue
        table = normalized.tables.get(table_name)
        if table is None:
            continue
        for path, spelled in spelled_values(table, _mapping(specs.get(key))):
            node = node_at(table_node, path)
            if not isinstance(node, ScalarNode) or node.value.strip() == spelled:
                continue
            if path[-1] == "type" and node.value.strip().lower() in SERIAL:
                continue  # serial is integer with a sequence default: not a spelling
            start, end = node.start_mark.index, node.end_mark.index
            written = text[start:end]
            trailing = written[len(written.rstrip()) :] if node.style in ("|", ">") else ""
            found.append(Rewrite(start, end, scalar(spelled) + trailing))
    return found


def formatted(text: str, changes: list[Rewrite]) -> str:
    for change in sorted(changes, key=lambda c: c.start, reverse=True):
        text = text[: change.start] + change.text + text[change.end :]
    return text


def format_files(files: list[tuple[str, str]], normalized: Catalog) -> list[tuple[Path, str, int]]:
    """(file, new text, values changed) for each file that changes."""
    changed = []
    for name, text in files:
        changes = rewrites(text, name, normalized)
        if changes:
            changed.append((Path(name), formatted(text, changes), len(changes)))
    return changed
