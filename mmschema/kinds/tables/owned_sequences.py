"""Sequences behind column changes, read from the target: an identity restarted when its
position is outside its new bounds, a serial's sequence dropped with its default."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any

import psycopg

from mmschema import changes as ch
from mmschema.catalogsql import table_sql
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.model import QualifiedName
from mmschema.nextval import referenced_sequences


def live_names(changes: list[ch.Change]) -> Callable[[QualifiedName], QualifiedName]:
    """A table's name in the target as it is now (before the plan's renames)."""
    renamed = {c.new: c.old for c in changes if isinstance(c, tc.RenameTable)}
    return lambda name: renamed.get(name, name)


def restart_position(options: tuple[tuple[str, str], ...], last: str | None) -> str | None:
    """RESTART WITH value when the sequence's position is outside its new bounds.

    A sequence that gave no value yet restarts at the new start; one whose last value is
    below the new minimum (above the new maximum, descending) gave only values outside the
    new range, so starting it again there repeats none."""
    given = dict(options)
    ascending = int(given.get("increment", "1")) > 0
    bound = given.get("min" if ascending else "max")
    start = given.get("start") or bound or ("1" if ascending else "-1")
    if last is None:
        return start
    if bound is None:
        return None
    outside = int(last) < int(bound) if ascending else int(last) > int(bound)
    return start if outside else None


def with_restarts(conn: psycopg.Connection[Any], changes: list[ch.Change]) -> list[ch.Change]:
    """Identity option changes, with RESTART where the live sequence's position needs it."""
    targets = [c for c in changes if isinstance(c, cc.AlterColumnIdentity) and c.set_options]
    if not targets:
        return changes
    live = live_names(changes)
    rows = conn.execute(
        table_sql("sequence_positions"),
        {
            "schemas": [live(c.table).schema for c in targets],
            "tables": [live(c.table).name for c in targets],
            "columns": [c.column for c in targets],
        },
    ).fetchall()
    last = {(schema, table, column): value for schema, table, column, value in rows}
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, cc.AlterColumnIdentity) and change.set_options:
            key = (live(change.table).schema, live(change.table).name, change.column)
            if key in last:
                change = replace(change, restart=restart_position(change.options, last[key]))
        result.append(change)
    return result


def _dropped_sequence(change: ch.Change) -> str | None:
    """The sequence the old default calls and the new one does not (a default changed,
    or one a type change drops and does not set again)."""
    if isinstance(change, cc.AlterColumnDefault):
        before, after = change.old, change.new
    elif isinstance(change, cc.AlterColumnType):
        before, after = change.old_default, change.new_default
    else:
        return None
    old = referenced_sequences(before or "")
    new = referenced_sequences(after or "")
    return old[0] if len(old) == 1 and old[0] not in new else None


def _live_sequence(sequence: str, table: QualifiedName, before: QualifiedName, column: str) -> str:
    """<new>_<column>_seq, as a renamed table's default reads, under its name before."""
    head, dot, name = sequence.rpartition(".")
    if table != before and name == f"{table.name}_{column}_seq":
        return f"{head}{dot}{before.name}_{column}_seq"
    return sequence


def with_owned_sequences_dropped(
    conn: psycopg.Connection[Any], changes: list[ch.Change], declared: Collection[str] = ()
) -> list[ch.Change]:
    """A default that no longer calls the sequence its column owns (serial to int or to
    identity) drops that sequence too, as dropping the column would; not one the file
    declares (`declared`, as schema.name): the file keeps it."""
    targets = [
        (c, seq)
        for c in changes
        if isinstance(c, cc.AlterColumnDefault | cc.AlterColumnType)
        and (seq := _dropped_sequence(c)) is not None
    ]
    if not targets:
        return changes
    live = live_names(changes)
    # A renamed table's default was read as if its serial sequence were renamed along; the
    # sequence the plan drops is not (with_identity_sequences_renamed leaves it alone).
    targets = [(c, _live_sequence(seq, c.table, live(c.table), c.column)) for c, seq in targets]
    rows = conn.execute(
        table_sql("owned_sequences"),
        {
            "schemas": [live(c.table).schema for c, _ in targets],
            "tables": [live(c.table).name for c, _ in targets],
            "columns": [c.column for c, _ in targets],
            "sequences": [seq for _, seq in targets],
        },
    ).fetchall()
    owned = {
        (schema, table, column): seq
        for schema, table, column, seq in rows
        if _qualified(seq) not in declared
    }
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, cc.AlterColumnDefault | cc.AlterColumnType):
            key = (live(change.table).schema, live(change.table).name, change.column)
            sequence = owned.get(key)
            if sequence is not None and isinstance(change, cc.AlterColumnDefault):
                change = replace(change, drop_sequence=sequence)
            elif sequence is not None:
                # The type change dropped the default: the sequence goes right after, before
                # an identity that would otherwise be named <sequence>1.
                result.append(change)
                change = cc.AlterColumnDefault(
                    change.table, change.column, None, None, drop_sequence=sequence
                )
        result.append(change)
    return result


def with_identity_sequences_renamed(
    conn: psycopg.Connection[Any], changes: list[ch.Change]
) -> list[ch.Change]:
    """A renamed table's identity and serial sequences named after it (<table>_<column>_seq)
    are renamed along, as one created under the new name would be called."""
    renames = [c for c in changes if isinstance(c, tc.RenameTable)]
    if not renames:
        return changes
    rows = conn.execute(
        table_sql("identity_sequences"),
        {"schemas": [c.old.schema for c in renames], "tables": [c.old.name for c in renames]},
    ).fetchall()
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, sequence in rows:
        found.setdefault((schema, table), []).append((column, sequence))
    dropped = {
        c.drop_sequence.rpartition(".")[2]
        for c in changes
        if isinstance(c, cc.AlterColumnDefault) and c.drop_sequence
    }
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, tc.RenameTable):
            extra = []
            for column, sequence in found.get((change.old.schema, change.old.name), []):
                new = f"{change.new.name}_{column}_seq"
                if (
                    sequence == f"{change.old.name}_{column}_seq"
                    and len(new.encode()) < 64
                    and sequence not in dropped
                ):
                    extra.append(("sequence", sequence, new))
            if extra:
                change = replace(change, derived=(*change.derived, *extra))
        result.append(change)
    return result


INTEGER_TYPES = ("smallint", "integer", "bigint")


def _carried_sequence(change: ch.Change) -> str | None:
    """The sequence a retyped integer column's default calls before and after the change."""
    if not isinstance(change, cc.AlterColumnType) or change.new_type not in INTEGER_TYPES:
        return None
    if change.old_default is None or change.old_default != change.new_default:
        return None
    called = referenced_sequences(change.new_default or "")
    return called[0] if len(called) == 1 else None


def with_owned_sequences_retyped(
    conn: psycopg.Connection[Any], changes: list[ch.Change], declared: set[str]
) -> list[ch.Change]:
    """A serial column retyped between integer types, its default kept: the sequence it owns
    gets the new type too (AS bigint), as serial would have made it. The sequences the file
    declares (`declared`, as schema.name) keep the type the file gives them."""
    done = {(c.table, c.column) for c in changes if isinstance(c, cc.AlterSequenceType)}
    targets = [
        (c, seq)
        for c in changes
        if isinstance(c, cc.AlterColumnType)
        and (c.table, c.column) not in done
        and (seq := _carried_sequence(c)) is not None
    ]
    if not targets:
        return changes
    live = live_names(changes)
    rows = conn.execute(
        table_sql("owned_sequences"),
        {
            "schemas": [live(c.table).schema for c, _ in targets],
            "tables": [live(c.table).name for c, _ in targets],
            "columns": [c.column for c, _ in targets],
            "sequences": [seq for _, seq in targets],
        },
    ).fetchall()
    owned = {(schema, table, column): seq for schema, table, column, seq in rows}
    result: list[ch.Change] = []
    for change in changes:
        result.append(change)
        if not isinstance(change, cc.AlterColumnType):
            continue
        key = (live(change.table).schema, live(change.table).name, change.column)
        sequence = owned.get(key)
        if sequence is not None and _qualified(sequence) not in declared:
            result.append(
                cc.AlterSequenceType(change.table, change.column, sequence, change.new_type)
            )
    return result


def _qualified(sequence: str) -> str:
    """schema.name of a sequence as nextval() names it (quotes dropped; unqualified: on the
    search path, public)."""
    parts = [p.strip('"') for p in sequence.split(".")]
    return ".".join(parts) if len(parts) == 2 else f"public.{parts[0]}"
