"""The table family's part of normalizing: what the file's words decide beside what the
scratch server prints (options, validity, foreign keys), which declared tables must be made
together, and a live table as another major's scratch server prints it."""

from __future__ import annotations

from dataclasses import replace

from mmschema.desired.declared import DeclaredTable, DesiredState
from mmschema.kinds.tables.model import ForeignKey, Table
from mmschema.model import Catalog, QualifiedName


def desired_links(desired: DesiredState) -> list[tuple[QualifiedName, QualifiedName]]:
    """Declared tables that must be created together: a partition and its parent, a table
    and one whose row type a column of it uses."""
    tables = desired.present_tables()
    by_text = {str(t.name): t.name for t in tables} | {
        t.name.name: t.name for t in tables if t.name.schema == "public"
    }
    links = [(t.name, t.partition_of) for t in tables if t.partition_of is not None]
    for table in tables:
        for column in table.columns:
            used = by_text.get(column.type.removesuffix("[]").replace('"', "").strip())
            if used is not None and used != table.name:
                links.append((table.name, used))
    return links


def declared_options(
    table: Table, declared: DeclaredTable, foreign_keys: tuple[ForeignKey, ...]
) -> Table:
    """Table options and constraint validity are exact words: taken from the file,
    defaults where it says nothing; the foreign keys as declared_foreign_keys made them."""
    flags = {c.name: (c.valid, c.no_inherit) for c in declared.checks}
    checks = tuple(
        replace(c, valid=flags[c.name][0], no_inherit=flags[c.name][1])
        if c.name in flags and flags[c.name] != (c.valid, c.no_inherit)
        else c
        for c in table.checks
    )
    options = (
        foreign_keys,
        checks,
        bool(declared.unlogged),
        declared.row_security or "off",
        declared.replica_identity or "default",
        tuple(
            (name if name is not None else _key_name(table), text)
            for name, text in declared.constraint_comments
            if name is not None or table.primary_key is not None
        ),
    )
    kept = (
        table.foreign_keys,
        table.checks,
        table.unlogged,
        table.row_security,
        table.replica_identity,
        table.constraint_comments,
    )
    if options == kept:
        return table  # most tables: a copy would be equal (and cost a frozen dataclass's init)
    keys, checks, unlogged, row_security, replica_identity, comments = options
    return replace(
        table,
        foreign_keys=keys,
        checks=checks,
        unlogged=unlogged,
        row_security=row_security,
        replica_identity=replica_identity,
        constraint_comments=comments,
    )


def _key_name(table: Table) -> str:
    assert table.primary_key is not None
    return table.primary_key.name


def declared_foreign_keys(
    table: DeclaredTable, wanted: Catalog, live: Catalog
) -> tuple[ForeignKey, ...]:
    """Foreign keys need no parsing: names are exact. Omitted referenced columns mean the
    referenced table's primary key, as declared in the file or found on the target."""
    keys = []
    for fk in table.foreign_keys:
        referenced = fk.referenced_columns
        if not referenced:
            other = wanted.tables.get(fk.references) or live.tables.get(fk.references)
            referenced = other.primary_key.columns if other and other.primary_key else ()
        keys.append(
            ForeignKey(
                name=fk.name,
                columns=fk.columns,
                references=fk.references,
                referenced_columns=referenced,
                on_delete=fk.on_delete,
                on_update=fk.on_update,
                deferrable=fk.deferrable,
                initially_deferred=fk.initially_deferred,
                valid=fk.valid,
            )
        )
    return tuple(keys)


def reprinted_as_live(table: Table, again: Table | None) -> Table:
    """A live table as another major's scratch server printed it (`again`), with the live
    facts that server cannot know; the table as read where it could not rebuild it."""
    if (
        again is None
        or len(again.columns) != len(table.columns)
        or {i.name for i in again.indexes} != {i.name for i in table.indexes}
        or len(again.unique) != len(table.unique)
        or len(again.checks) != len(table.checks)
        or len(again.exclusions) != len(table.exclusions)
    ):
        return table
    valid = {i.name: i.valid for i in table.indexes}
    indexes = tuple(replace(i, valid=valid.get(i.name, True)) for i in again.indexes)
    valid_checks = {c.name: c.valid for c in table.checks}
    checks = tuple(replace(c, valid=valid_checks.get(c.name, True)) for c in again.checks)
    return replace(
        again,
        indexes=indexes,
        checks=checks,
        primary_key=table.primary_key,
        foreign_keys=table.foreign_keys,
        partitions=table.partitions,
        comment=table.comment,
        unlogged=table.unlogged,
        row_security=table.row_security,
        replica_identity=table.replica_identity,
    )
