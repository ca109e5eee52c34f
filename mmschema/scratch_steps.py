"""The statements that build declared (or live) objects on the scratch server, one per object:
extensions, types and functions here, the tables' in kinds/tables/scratch.py.

Each carries the place it was declared, so an error the server reports points at the file.
"""

from __future__ import annotations

from collections.abc import Sequence

from mmschema import changes as ch
from mmschema import ddl
from mmschema.desired.declared import DesiredState
from mmschema.kinds.base import ScratchStep
from mmschema.kinds.tables.kind import TABLES
from mmschema.kinds.tables.scratch import declared_at
from mmschema.model import Catalog, UserType

__all__ = [
    "ScratchStep",
    "catalog_steps",
    "desired_steps",
    "extension_steps",
    "function_steps",
    "type_steps",
]


def extension_steps(extensions: frozenset[str] | set[str]) -> list[ScratchStep]:
    """The target's extensions, where the scratch server has them (their types, opclasses)."""
    return [
        ScratchStep(
            ddl.statements_for_extension(name),
            f"extension {name} of the target",
            optional=True,
            privileged=True,
        )
        for name in sorted(extensions)
        if name != "plpgsql"
    ]


def type_steps(types: tuple[UserType, ...]) -> list[ScratchStep]:
    """The target's enums and domains, which declared columns may use."""
    steps = []
    for user_type in types:
        where = f"{user_type.kind} {user_type.name} of the target"
        schema = ddl.render(ddl.create_schema(user_type.name.schema))
        steps.append(ScratchStep(schema, where, optional=True))
        steps.extend(ScratchStep(s, where, optional=True) for s in ddl.create_user_type(user_type))
    return steps


def desired_steps(
    desired: DesiredState,
    types: tuple[UserType, ...] = (),
    declared_types: Sequence[ScratchStep] = (),
) -> list[ScratchStep]:
    """One scratch statement per declared object, so an error points at its declaration;
    `declared_types`: the file's domains and composite and range types, after its enums."""
    steps = [
        ScratchStep(
            ddl.statements_for_extension(name),
            f"extensions: extension {name!r}",
            None,
            privileged=True,
        )
        for name in desired.extensions
    ]
    declared = {e.name for e in desired.enums}
    steps.extend(type_steps(tuple(t for t in types if t.name not in declared)))
    for enum in desired.present_enums():
        where = declared_at(enum.source, f"enum {enum.name}")
        steps.append(ScratchStep(ddl.render(ddl.create_schema(enum.name.schema)), where))
        created = ddl.types.create_enum(ch.CreateEnum(enum.name, enum.labels))
        steps.append(ScratchStep(created.sql, where))
    steps.extend(declared_types)
    steps.extend(TABLES.scratch_steps(desired))
    return steps


def catalog_steps(catalog: Catalog) -> list[ScratchStep]:
    """Statements that rebuild a live catalog's tables (for a scratch of another major)."""
    steps = extension_steps(catalog.extensions)
    steps.extend(type_steps(catalog.types))
    steps.extend(TABLES.live_steps(catalog))
    return steps


def function_steps(definitions: list[str]) -> list[ScratchStep]:
    """The target's own functions, which declared expressions may call (bodies unchecked)."""
    return [ScratchStep(text, "a function of the target", optional=True) for text in definitions]
