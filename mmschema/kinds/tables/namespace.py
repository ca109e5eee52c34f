"""Relation names a plan frees and takes: a dropped table that holds a name the plan
creates (its own, an index's, a sequence's) is dropped before anything is created."""

from __future__ import annotations

from dataclasses import replace

from mmschema import changes as ch
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import Table
from mmschema.model import Catalog, QualifiedName
from mmschema.nextval import referenced_sequences


def held_names(table: Table) -> set[QualifiedName]:
    """The names in the relation namespace a live table and what comes with it hold."""
    schema = table.name.schema
    names = {table.name}
    names.update(QualifiedName(schema, i.name) for i in table.indexes)
    if table.primary_key is not None:
        names.add(QualifiedName(schema, table.primary_key.name))
    names.update(QualifiedName(schema, u.name) for u in table.unique)
    names.update(QualifiedName(schema, x.name) for x in table.exclusions)
    for column in table.columns:
        for sequence in referenced_sequences(column.default or ""):
            names.add(_sequence_name(sequence, schema))
    return names


def _sequence_name(text: str, schema: str) -> QualifiedName:
    parts = [p.strip('"') for p in text.split(".")]
    return QualifiedName(parts[0], parts[1]) if len(parts) == 2 else QualifiedName(schema, parts[0])


def taken_names(change: ch.Change) -> set[QualifiedName]:
    """The relation names a change creates."""
    match change:
        case tc.CreateTable(table=table) | tc.ReplaceTable(table=table):
            return held_names(table)
        case tc.RenameTable(new=new):
            return {new}
        case tc.RenameConstraint(table=t, new=new):
            # A key or unique constraint renames its index, a name in the relation namespace.
            return {QualifiedName(t.schema, new)}
        case tc.CreateIndex(table=t, index=index) | tc.BuildPartitionedIndex(table=t, index=index):
            return {QualifiedName(t.schema, index.name)}
        case tc.ReplaceIndex(table=t, new=index) | tc.RenameIndex(table=t, new=index):
            name = index if isinstance(index, str) else index.name
            return {QualifiedName(t.schema, name)}
        case tc.AddPrimaryKey(table=t, key=key):
            return {QualifiedName(t.schema, key.name)}
        case tc.AddUnique(table=t, constraint=unique):
            return {QualifiedName(t.schema, unique.name)}
        case tc.AddExclusion(table=t, exclusion=exclusion):
            return {QualifiedName(t.schema, exclusion.name)}
        case cc.CreateOwnedSequence(table=t, sequence=sequence):
            return {_sequence_name(sequence, t.schema)}
    return set()


def drops_that_make_room(live: Catalog, changes: list[ch.Change]) -> list[ch.Change]:
    """DropTable changes marked early where a name the table holds is taken by the plan."""
    taken: set[QualifiedName] = set()
    for change in changes:
        if not isinstance(change, tc.DropTable):
            taken |= taken_names(change)
    if not taken:
        return changes
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, tc.DropTable) and not change.early:
            have = live.tables.get(change.table)
            if have is not None and held_names(have) & taken:
                change = replace(change, early=True)
        result.append(change)
    return result
