"""Names and state of online type changes shared by both methods (shadow columns, copy and
swap): the names of their objects, what the catalog says of a table, what a plan rebuilds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mmschema.ddl.base import name_prefix
from mmschema.kinds.tables.model import Check, Index, IndexKey, UniqueConstraint
from mmschema.model import ColumnTrigger, QualifiedName, View

SHADOW_PREFIX = "_mms_new_"
TRIGGER_PREFIX = "_mms_sync_"
COPY_PREFIX = "_mms_copy_"


@dataclass(frozen=True)
class TableState:
    """What the catalog says about a table beyond the model: size, sync triggers, sequences."""

    rows: int
    triggers: frozenset[str]
    owned_sequences: tuple[tuple[str, str], ...]  # (column, sequence)
    copy_blockers: tuple[str, ...] = ()  # why the copy-and-swap method cannot be used
    copy_exists: bool = False  # an earlier apply's copy is there
    copy_indexes: tuple[tuple[str, bool], ...] = ()  # the copy's indexes: (name, valid)
    copy_progress: str | None = None  # how far its rows were copied (its comment)
    owner: str = ""  # its owner, when not the role applying (who makes the copy)
    # (grantee or PUBLIC, privilege, column or "", grantable): the table's and its columns'
    privileges: tuple[tuple[str, str, str, bool], ...] = ()
    copy_privileges: tuple[tuple[str, str, str, bool], ...] = ()  # the copy's, as it will be
    triggers_kept: tuple[ColumnTrigger, ...] = ()  # its own triggers, made again by the swap
    views_over: frozenset[QualifiedName] = frozenset()  # every view reading it, at any depth


def shadow_name(name: str) -> str:
    return name_prefix(SHADOW_PREFIX + name, 63)


def copy_name(name: str) -> str:
    return name_prefix(COPY_PREFIX + name, 63)


def trigger_name(table: QualifiedName, column: str) -> str:
    digest = hashlib.sha256(f"{table}.{column}".encode()).hexdigest()[:12]
    return f"{TRIGGER_PREFIX}{digest}"


def truncate_trigger(trigger: str) -> str:
    """The statement-level trigger beside a copy's row trigger that mirrors TRUNCATE."""
    return trigger + "_truncate"


def is_shadow(name: str) -> bool:
    return name.startswith(SHADOW_PREFIX)


@dataclass(frozen=True)
class Replaced:
    """What the diff drops and makes again on a table, by name, as the file wants it: an
    online change builds these over the shadow instead, and the diff's steps go. Those it
    drops for good (`gone`) get no twin: the diff's drop runs before the expand."""

    indexes: dict[str, Index]
    checks: dict[str, Check]
    gone: frozenset[str] = frozenset()
    views: tuple[View, ...] = ()  # the views made again around its type changes, as made


def as_made(views: list[View], replaced: Replaced) -> list[View]:
    """The views a swap makes again: as the plan makes them (the file's definition, where
    it changes one that reads a retyped column), else as they were."""
    made = {v.name: v for v in replaced.views}
    return [made.get(v.name, v) for v in views]


def unique_index_under_shadow_name(
    constraint: UniqueConstraint, keys: tuple[IndexKey, ...]
) -> Index:
    """The unique index built beside a unique constraint, attached to it (USING INDEX) at
    the swap."""
    return Index(
        shadow_name(constraint.name), keys, unique=True, nulls_distinct=constraint.nulls_distinct
    )
