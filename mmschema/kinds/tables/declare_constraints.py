"""Declared keys and constraints of a table (primary key, unique, foreign keys, checks,
exclusions), built from its YAML and checked."""

from __future__ import annotations

from mmschema.desired.build import (
    Scope,
    bool_of,
    deferrable_of,
    list_of,
    mapping_of,
    text_of,
)
from mmschema.desired.declared import (
    DeclaredCheck,
    DeclaredExclusion,
    DeclaredForeignKey,
    DeclaredPrimaryKey,
    DeclaredUnique,
)
from mmschema.desired.sqltext import (
    SqlProblem,
    check_exclusion,
)
from mmschema.kinds.tables.declare_columns import at_path
from mmschema.model import QualifiedName
from mmschema.words import count


def primary_key_of(scope: Scope, value: object) -> DeclaredPrimaryKey | None:
    path = at_path(scope.path, "primary_key")
    if isinstance(value, list):
        names = scope.column_list(path, value, "primary key")
        return DeclaredPrimaryKey(names, None, scope.context.key(path))
    if not isinstance(value, dict):
        return None
    name = text_of(value.get("name"))
    if name is not None:
        scope.context.check_name(at_path(path, "name"), "primary key name", name)
    names = scope.column_list(at_path(path, "columns"), value.get("columns"), "primary key")
    renamed = text_of(value.get("renamed_from"))
    return DeclaredPrimaryKey(names, name, scope.context.key(path), renamed)


def unique_of(scope: Scope, value: object) -> tuple[DeclaredUnique, ...]:
    built: list[DeclaredUnique] = []
    for name, spec in mapping_of(value).items():
        path = at_path(scope.path, "unique", name)
        if not isinstance(spec, dict):
            continue
        what = f"unique constraint '{name}'"
        scope.context.check_name(path, "constraint name", name)
        deferrable, deferred = deferrable_of(spec.get("deferrable"))
        built.append(
            DeclaredUnique(
                name=name,
                columns=scope.column_list(at_path(path, "columns"), spec.get("columns"), what),
                source=scope.context.key(path),
                deferrable=deferrable,
                initially_deferred=deferred,
                nulls_distinct=bool_of(spec.get("nulls_distinct"), True),
                renamed_from=text_of(spec.get("renamed_from")),
            )
        )
    return tuple(built)


def foreign_keys_of(scope: Scope, value: object) -> tuple[DeclaredForeignKey, ...]:
    built: list[DeclaredForeignKey] = []
    for name, spec in mapping_of(value).items():
        if isinstance(spec, dict):
            built.append(_foreign_key(scope, name, spec))
    return tuple(built)


def _foreign_key(scope: Scope, name: str, spec: dict[str, object]) -> DeclaredForeignKey:
    context = scope.context
    path = at_path(scope.path, "foreign_keys", name)
    what = f"foreign key '{name}'"
    context.check_name(path, "constraint name", name)
    columns = scope.column_list(at_path(path, "columns"), spec.get("columns"), what)
    target = mapping_of(spec.get("references"))
    table_text = text_of(target.get("table"))
    references = (
        context.table_name(at_path(path, "references", "table"), table_text, "public", "table")
        if table_text
        else QualifiedName("public", "")
    )
    referenced = tuple(c for c in list_of(target.get("columns")) if isinstance(c, str))
    if referenced and columns and len(referenced) != len(columns):
        context.error(
            at_path(path, "references", "columns"),
            f"{what} has {count(len(columns), 'column')} but references {len(referenced)}",
        )
    deferrable, deferred = deferrable_of(spec.get("deferrable"))
    return DeclaredForeignKey(
        name=name,
        columns=columns,
        references=references,
        source=context.key(path),
        referenced_columns=referenced,
        on_delete=text_of(spec.get("on_delete")) or "no_action",
        on_update=text_of(spec.get("on_update")) or "no_action",
        deferrable=deferrable,
        initially_deferred=deferred,
        valid=bool_of(spec.get("valid"), True),
        renamed_from=text_of(spec.get("renamed_from")),
    )


def checks_of(scope: Scope, value: object) -> tuple[DeclaredCheck, ...]:
    built: list[DeclaredCheck] = []
    for name, spec in mapping_of(value).items():
        path = at_path(scope.path, "checks", name)
        scope.context.check_name(path, "constraint name", name)
        options = mapping_of(spec)
        expr_path = at_path(path, "expr") if options else path
        expr = options.get("expr") if options else spec
        text = scope.context.expression(expr_path, expr, f"check '{name}'")
        if text is not None:
            built.append(
                DeclaredCheck(
                    name,
                    text,
                    scope.context.key(path),
                    valid=bool_of(options.get("valid"), True),
                    no_inherit=bool_of(options.get("no_inherit"), False),
                    renamed_from=text_of(options.get("renamed_from")),
                )
            )
    return tuple(built)


def exclusions_of(scope: Scope, value: object) -> tuple[DeclaredExclusion, ...]:
    built: list[DeclaredExclusion] = []
    for name, body in mapping_of(value).items():
        path = at_path(scope.path, "exclude", name)
        scope.context.check_name(path, "constraint name", name)
        if not isinstance(body, str) or not body.strip():
            continue  # the JSON Schema check reports it
        try:
            check_exclusion(body.strip())
        except SqlProblem as problem:
            scope.context.error(path, f"exclusion constraint '{name}' {problem}")
        built.append(DeclaredExclusion(name, body.strip(), scope.context.key(path)))
    return tuple(built)


def constraint_comments_of(spec: dict[str, object]) -> tuple[tuple[str | None, str | None], ...]:
    """(constraint name, comment) of each constraint entry with a `comment` key (null
    removes one); the primary key's name is None: it may be PostgreSQL's default."""
    found: list[tuple[str | None, str | None]] = []
    key = spec.get("primary_key")
    if isinstance(key, dict) and "comment" in key:
        found.append((None, text_of(key.get("comment"))))
    for section in ("unique", "foreign_keys", "checks"):
        for name, entry in mapping_of(spec.get(section)).items():
            if isinstance(entry, dict) and "comment" in entry:
                found.append((name, text_of(entry.get("comment"))))
    return tuple(found)
