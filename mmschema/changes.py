"""Every kind's changes as one vocabulary: the Change union, what plans call each change and
what it is about; the extensions', schemas' and enums' changes (each kind's own are
KindChange subclasses in its module in mmschema/kinds/)."""

from __future__ import annotations

from dataclasses import dataclass

from mmschema.kinds.base import KindChange, Phase
from mmschema.model import QualifiedName

__all__ = [
    "AddEnumValue",
    "Change",
    "CreateEnum",
    "CreateExtension",
    "CreateSchema",
    "DropEnum",
    "KindChange",
    "Phase",
    "RebuildEnum",
    "RenameEnumValue",
    "kind_of",
    "object_of",
]


@dataclass(frozen=True)
class CreateExtension:
    name: str
    phase = Phase.EXTENSIONS


@dataclass(frozen=True)
class CreateSchema:
    name: str
    phase = Phase.SCHEMAS


@dataclass(frozen=True)
class CreateEnum:
    name: QualifiedName
    labels: tuple[str, ...]
    phase = Phase.ENUMS


@dataclass(frozen=True)
class AddEnumValue:
    """ALTER TYPE ... ADD VALUE: commits alone, before anything uses the new label."""

    name: QualifiedName
    label: str
    before: str | None = None  # BEFORE this label; AFTER `after`; else at the end
    after: str | None = None
    phase = Phase.ENUMS


@dataclass(frozen=True)
class RenameEnumValue:
    """ALTER TYPE ... RENAME VALUE: the rows holding the label hold the new one."""

    name: QualifiedName
    old: str
    new: str
    phase = Phase.ENUMS


@dataclass(frozen=True)
class RebuildEnum:
    """DROP TYPE and CREATE TYPE of an enum nothing uses (--prune: labels the file does not
    list, or an order ADD VALUE cannot reach)."""

    name: QualifiedName
    labels: tuple[str, ...]
    dropped: tuple[str, ...]  # live labels the file does not list
    phase = Phase.ENUMS


@dataclass(frozen=True)
class DropEnum:
    name: QualifiedName
    phase = Phase.DROP_TYPES


# Each kind's changes are KindChange subclasses in its module (mmschema/kinds/).
Change = (
    CreateExtension
    | CreateSchema
    | CreateEnum
    | AddEnumValue
    | RenameEnumValue
    | RebuildEnum
    | DropEnum
    | KindChange
)


KIND_NAMES: dict[type, str] = {
    CreateExtension: "create_extension",
    CreateSchema: "create_schema",
    CreateEnum: "create_enum",
    AddEnumValue: "add_enum_value",
    RenameEnumValue: "rename_enum_value",
    RebuildEnum: "rebuild_enum",
    DropEnum: "drop_enum",
}


def kind_of(change: Change) -> str:
    if isinstance(change, KindChange):
        return change.kind_name
    return KIND_NAMES[type(change)]


def object_of(change: Change) -> str:
    """The `schema.table[.name]` a change is about, as shown in plans."""
    match change:
        case KindChange():
            return change.subject
        case CreateExtension(name=name) | CreateSchema(name=name):
            return name
        case (
            CreateEnum(name=name)
            | AddEnumValue(name=name)
            | RenameEnumValue(name=name)
            | RebuildEnum(name=name)
            | DropEnum(name=name)
        ):
            return str(name)
    raise TypeError(change)
