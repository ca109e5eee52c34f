"""The pure diff: live catalog and desired catalog (plus the file's intent) to ordered changes."""

from __future__ import annotations

from mmschema import changes as ch
from mmschema.desired.declared import DeclaredEnum, DesiredState
from mmschema.kinds.undeclared import pruned_tables_that_make_room
from mmschema.model import Catalog, QualifiedName, UserType
from mmschema.pipeline.diff import DiffResult
from mmschema.pipeline.kinds import TABLES, arranged_with_tables, without_pruned


def managed_names(declared: DesiredState) -> list[QualifiedName]:
    """Every live name the file may be talking about, old names of renames included."""
    return TABLES.managed_names(declared)


def diff(
    live: Catalog, desired: Catalog, declared: DesiredState, prune: bool = False
) -> DiffResult:
    result = DiffResult(pruned=prune)
    if prune:
        live = without_pruned(live)
    for extension in declared.extensions:
        if extension not in live.extensions:
            result.changes.append(ch.CreateExtension(extension))
    new_schemas: set[str] = set()
    _diff_enums(live, declared.enums, new_schemas, prune, result)
    changes, labels = TABLES.diff(live, desired, declared, prune, new_schemas)
    result.changes += changes
    result.unmanaged += labels
    result.changes = TABLES.arranged(live, desired, result.changes)
    result.changes, unmanaged = arranged_with_tables(result.changes, live, desired.objects)
    for item in unmanaged:
        if prune:
            result.changes.append(item.drop)
        else:
            result.unmanaged.append(item.label)
    if prune:
        result.changes = pruned_tables_that_make_room(result.changes)
    result.changes.sort(key=lambda c: c.phase)
    return result


def _diff_enums(
    live: Catalog,
    enums: tuple[DeclaredEnum, ...],
    new_schemas: set[str],
    prune: bool,
    result: DiffResult,
) -> None:
    """Declared enums: created, labels renamed and added, or dropped; shrunk or reordered
    only by --prune, and only when nothing uses the type (dropped and created again)."""
    types = {t.name: t for t in live.types}
    for enum in enums:
        have = types.get(enum.name)
        if enum.state == "absent":
            if have is not None:
                result.changes.append(ch.DropEnum(enum.name))
            continue
        if have is None:
            schema = enum.name.schema
            if schema not in live.schemas and schema not in new_schemas:
                new_schemas.add(schema)
                result.changes.append(ch.CreateSchema(schema))
            result.changes.append(ch.CreateEnum(enum.name, enum.labels))
            continue
        if have.kind != "enum":
            result.unmanaged.append(f"type {enum.name} (a {have.kind}, not an enum)")
            continue
        _diff_enum_labels(have, enum, prune, result)


def _diff_enum_labels(
    have: UserType, enum: DeclaredEnum, prune: bool, result: DiffResult
) -> None:
    """RENAME VALUE for each label renamed, ADD VALUE for each missing one, placed before
    the next declared label the type has (else after the last one); what ADD VALUE cannot
    do is reported as unmanaged, or with --prune made by rebuilding a type nothing uses."""
    labels = list(have.labels)
    renames = []
    for label, old in enum.renamed_labels:
        if label not in labels and old in labels:
            renames.append(ch.RenameEnumValue(enum.name, old, label))
            labels[labels.index(old)] = label
    if prune and not have.in_use and not _reachable(labels, enum.labels):
        dropped = tuple(x for x in labels if x not in enum.labels)
        result.changes.append(ch.RebuildEnum(enum.name, enum.labels, dropped))
        return
    result.changes.extend(renames)
    for i, label in enumerate(enum.labels):
        if label in labels:
            continue
        following = next((x for x in enum.labels[i + 1 :] if x in labels), None)
        preceding = next((x for x in reversed(enum.labels[:i]) if x in labels), None)
        if following is not None:
            change = ch.AddEnumValue(enum.name, label, before=following)
            labels.insert(labels.index(following), label)
        elif preceding is not None and preceding != labels[-1]:
            change = ch.AddEnumValue(enum.name, label, after=preceding)
            labels.insert(labels.index(preceding) + 1, label)
        else:
            change = ch.AddEnumValue(enum.name, label)
            labels.append(label)
        result.changes.append(change)
    declared = set(enum.labels)
    for label in labels:
        if label not in declared:
            result.unmanaged.append(f"enum label {enum.name}.{label}")
    order = [x for x in labels if x in declared]
    if order != list(enum.labels):
        result.unmanaged.append(
            f"enum label order {enum.name} (live: {', '.join(order)}; "
            "ADD VALUE cannot reorder labels)"
        )


def _reachable(live: list[str], declared: tuple[str, ...]) -> bool:
    """Whether ADD VALUE alone turns the live labels into the declared ones: every live
    label is declared, in the declared order."""
    return [x for x in declared if x in live] == live
