"""Tables as the file declares them: each built from its YAML (columns, indexes, constraints)."""

from __future__ import annotations

from dataclasses import replace

from mmschema.desired.build import (
    Context,
    Scope,
    mapping_of,
    text_of,
)
from mmschema.desired.checks import shown
from mmschema.desired.declared import (
    DeclaredPartitionColumn,
    DeclaredTable,
    Source,
)
from mmschema.desired.sqltext import (
    SqlProblem,
    check_partition_bound,
    check_partition_by,
)
from mmschema.desired.yamlpos import JsonPath
from mmschema.kinds.tables.declare_columns import (
    at_path,
    check_key_nullable,
    columns_of,
    declared_index,
)
from mmschema.kinds.tables.declare_constraints import (
    checks_of,
    constraint_comments_of,
    exclusions_of,
    foreign_keys_of,
    primary_key_of,
    unique_of,
)
from mmschema.model import QualifiedName


def build_table(context: Context, key: str, spec: dict[str, object]) -> DeclaredTable:
    """One table; errors go to the context's report, the table is built regardless."""
    path: JsonPath = ("tables", key)
    name = context.table_name(path, key, "public", "table key")
    state = text_of(spec.get("state")) or "present"
    partition_of = mapping_of(spec.get("partition_of"))
    parent = _partition_parent(context, path, partition_of.get("table"), name.schema)
    # A partition's columns are its parent's: the server checks what its indexes name.
    scope = Scope(context, name, path, present=state == "present" and parent is None)
    bound = partition_of.get("bound")
    columns = columns_of(scope, spec) if parent is None else []  # else: partition_columns
    primary_key = primary_key_of(scope, spec.get("primary_key"))
    if primary_key is not None:  # PostgreSQL makes primary key columns NOT NULL
        check_key_nullable(scope, spec, primary_key)
        columns = [
            replace(c, nullable=False) if c.name in primary_key.columns else c for c in columns
        ]
    indexes = [
        declared_index(scope, index_name, index_spec)
        for index_name, index_spec in mapping_of(spec.get("indexes")).items()
        if isinstance(index_spec, dict)
    ]
    scope.check_renames(
        [(i.name, i.renamed_from, at_path(path, "indexes", i.name)) for i in indexes], "index"
    )
    table = DeclaredTable(
        name=name,
        source=context.key(path),
        columns=tuple(columns),
        primary_key=primary_key,
        indexes=tuple(indexes),
        comment=text_of(spec.get("comment")),
        comment_given="comment" in spec,
        renamed_from=_renamed_table(context, path, spec.get("renamed_from"), name.schema),
        state=state,
        unique=unique_of(scope, spec.get("unique")),
        foreign_keys=foreign_keys_of(scope, spec.get("foreign_keys")),
        checks=checks_of(scope, spec.get("checks")),
        exclusions=exclusions_of(scope, spec.get("exclude")),
        partition_by=_clause(context, at_path(path, "partition_by"), spec.get("partition_by"), key),
        partition_of=parent,
        partition_bound=_clause(context, at_path(path, "partition_of", "bound"), bound, key)
        if parent is not None
        else None,
        partition_columns=_partition_columns(context, path, spec) if parent else (),
        unlogged=_flag(spec.get("unlogged")),
        row_security=_row_security(spec.get("row_level_security")),
        replica_identity=_replica_identity(spec.get("replica_identity")),
        constraint_comments=constraint_comments_of(spec),
    )
    _check_constraint_names(scope, table)
    _check_replica_identity(scope, table)
    return table


def _partition_columns(
    context: Context, path: JsonPath, spec: dict[str, object]
) -> tuple[DeclaredPartitionColumn, ...]:
    """A partition's own NOT NULL and DEFAULT on its parent's columns (the JSON Schema
    allows only those two keys there)."""
    built: list[DeclaredPartitionColumn] = []
    for name, options in mapping_of(spec.get("columns")).items():
        if not isinstance(options, dict):
            continue
        where = at_path(path, "columns", name)
        nullable = options.get("nullable")
        built.append(
            DeclaredPartitionColumn(
                name=name,
                source=context.key(where),
                nullable=nullable if isinstance(nullable, bool) else None,
                default=context.literal(
                    at_path(where, "default"), options.get("default"), f"default of column '{name}'"
                ),
                default_given="default" in options,
            )
        )
    return tuple(built)


def _check_replica_identity(scope: Scope, table: DeclaredTable) -> None:
    """REPLICA IDENTITY USING INDEX needs a unique, non-partial index of the table's
    NOT NULL columns: one the file declares (as an index, unique constraint or key)."""
    identity = table.replica_identity or ""
    if not identity.startswith("index:") or table.state != "present":
        return
    name = identity.removeprefix("index:")
    path = at_path(scope.path, "replica_identity", "index")
    what = f"replica_identity names index '{name}'"
    key = table.primary_key
    columns: tuple[str, ...]
    if key is not None and (key.name or f"{table.name.name}_pkey") == name:
        return
    unique = next((u for u in table.unique if u.name == name), None)
    index = next((i for i in table.present_indexes() if i.name == name), None)
    if unique is not None:
        if unique.deferrable:
            scope.context.error(path, f"{what}, a deferrable unique constraint; it cannot be")
            return
        columns = unique.columns
    elif index is not None:
        if not index.unique or index.where or any(k.column is None for k in index.keys):
            scope.context.error(
                path, f"{what}, which is not unique, or is partial, or has expressions"
            )
            return
        columns = tuple(str(k.column) for k in index.keys)
    else:
        scope.context.error(
            path,
            f"{what}, which table {shown(table.name)} does not declare "
            "(as a unique index, unique constraint or primary key)",
        )
        return
    declared = {c.name: c for c in table.present_columns()}
    for column in columns:
        if column in declared and declared[column].nullable:
            scope.context.error(
                path, f"{what}, whose column '{column}' may be null; declare it nullable: false"
            )


def _renamed_table(
    context: Context, path: JsonPath, value: object, schema: str
) -> QualifiedName | None:
    if not isinstance(value, str):
        return None
    return context.table_name(at_path(path, "renamed_from"), value, schema, "renamed_from")


_CLAUSES = {
    "partition_by": ("partition_by", check_partition_by),
    "bound": ("partition_of.bound", check_partition_bound),
}


def _clause(context: Context, path: JsonPath, value: object, table: str) -> str | None:
    """partition_by or a partition's bound, after checking it is exactly one of its kind."""
    text = text_of(value)
    if text is None:
        return None
    what, check = _CLAUSES[str(path[-1])]
    try:
        check(text)
    except SqlProblem as problem:
        context.error(path, f"{what} of table {table!r} {problem}")
    return text


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _row_security(value: object) -> str | None:
    if isinstance(value, bool):
        return "on" if value else "off"
    return value if value in ("forced", "force_only") else None


def _replica_identity(value: object) -> str | None:
    if isinstance(value, str):
        return value
    index = mapping_of(value).get("index")
    return f"index:{index}" if isinstance(index, str) else None


def _partition_parent(
    context: Context, path: JsonPath, value: object, schema: str
) -> QualifiedName | None:
    if not isinstance(value, str):
        return None
    return context.table_name(at_path(path, "partition_of", "table"), value, schema, "partition_of")


def _check_constraint_names(scope: Scope, table: DeclaredTable) -> None:
    names: list[tuple[str, Source]] = []
    key = table.primary_key
    if key is not None and key.name is not None and key.source is not None:
        names.append((key.name, key.source))
    names.extend((u.name, u.source) for u in table.unique)
    names.extend((f.name, f.source) for f in table.foreign_keys)
    names.extend((c.name, c.source) for c in table.checks)
    names.extend((x.name, x.source) for x in table.exclusions)
    scope.check_constraint_names(names)
