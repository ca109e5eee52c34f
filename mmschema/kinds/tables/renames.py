"""The live side of a table as it reads once its columns are renamed: a rename is a catalog
update, so the indexes, keys and checks that use a renamed column are not changes."""

from __future__ import annotations

import re
from dataclasses import replace

from mmschema.desired.declared import DesiredState
from mmschema.kinds.tables.model import Table
from mmschema.model import Catalog, QualifiedName

PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
# A string literal, a quoted identifier, or a bare word (not a qualified name's second part,
# a type after ::, or a function name before "(").
TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(?<![.:\w$])[A-Za-z_][\w$]*(?![\w$]*\s*\()")


def column_renames(live: Catalog, declared: DesiredState) -> dict[QualifiedName, dict[str, str]]:
    """Per live table (by its name after a table rename): old column name -> new one."""
    found: dict[QualifiedName, dict[str, str]] = {}
    for table in declared.tables:
        if not any(column.renamed_from for column in table.columns):
            continue
        have = live.tables.get(table.name) or (
            live.tables.get(table.renamed_from) if table.renamed_from else None
        )
        if have is None:
            continue
        names = {c.name for c in have.columns}
        for column in table.columns:
            old = column.renamed_from
            if old and old in names and column.name not in names:
                found.setdefault(table.name, {})[old] = column.name
    return found


def printed(name: str) -> str:
    return name if PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


def renamed_expression(text: str, mapping: dict[str, str]) -> str:
    """An expression with references to renamed columns written with the new names."""
    printed_old = {printed(old): printed(new) for old, new in mapping.items()}

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        return printed_old.get(token, token)

    return TOKEN.sub(swap, text)


def with_renamed_columns(table: Table, renames: dict[QualifiedName, dict[str, str]]) -> Table:
    """The live table with its renamed columns' new names everywhere they appear."""
    own = renames.get(table.name, {})
    if not own and not any(k.references in renames for k in table.foreign_keys):
        return table

    def cols(names: tuple[str, ...], mapping: dict[str, str] = own) -> tuple[str, ...]:
        return tuple(mapping.get(n, n) for n in names)

    indexes = tuple(
        replace(
            index,
            keys=tuple(
                replace(k, expr=own.get(k.expr, k.expr))
                if k.is_column
                else replace(k, expr=renamed_expression(k.expr, own))
                for k in index.keys
            ),
            include=cols(index.include),
            where=renamed_expression(index.where, own) if index.where else index.where,
        )
        for index in table.indexes
    )
    key = table.primary_key
    return replace(
        table,
        indexes=indexes,
        primary_key=replace(key, columns=cols(key.columns)) if key else None,
        unique=tuple(replace(u, columns=cols(u.columns)) for u in table.unique),
        checks=tuple(
            replace(c, expression=renamed_expression(c.expression, own)) for c in table.checks
        ),
        foreign_keys=tuple(
            replace(
                k,
                columns=cols(k.columns),
                referenced_columns=cols(k.referenced_columns, renames.get(k.references, {})),
            )
            for k in table.foreign_keys
        ),
    )
