"""Declared columns and indexes of a table, built from its YAML and checked."""

from __future__ import annotations

from mmschema.desired.build import (
    Context,
    Scope,
    bool_of,
    list_of,
    mapping_of,
    number_text,
    text_of,
)
from mmschema.desired.declared import (
    DeclaredColumn,
    DeclaredIndex,
    DeclaredIndexKey,
    DeclaredPrimaryKey,
)
from mmschema.desired.sqltext import (
    SqlProblem,
    check_type,
)
from mmschema.desired.yamlpos import JsonPath

_NO_INCLUDE = frozenset({"hash", "gin", "brin"})  # access methods without INCLUDE support


def at_path(path: JsonPath, *more: str | int) -> JsonPath:
    return (*path, *more)


MAX_COLUMNS = 1600  # PostgreSQL's MaxHeapAttributeNumber


def columns_of(scope: Scope, spec: dict[str, object]) -> list[DeclaredColumn]:
    columns = mapping_of(spec.get("columns"))
    built = [_column(scope, n, s) for n, s in columns.items() if isinstance(s, dict)]
    scope.columns = {c.name: c for c in built}
    if len(built) > MAX_COLUMNS:
        over = built[MAX_COLUMNS].name
        scope.context.key_error(
            at_path(scope.path, "columns", over),
            f"column '{over}': tables can have at most {MAX_COLUMNS} columns",
        )
    scope.check_renames(
        [(c.name, c.renamed_from, at_path(scope.path, "columns", c.name)) for c in built], "column"
    )
    return built


def check_key_nullable(scope: Scope, spec: dict[str, object], key: DeclaredPrimaryKey) -> None:
    columns = mapping_of(spec.get("columns"))
    for name in key.columns:
        if mapping_of(columns.get(name)).get("nullable") is True:
            scope.context.error(
                at_path(scope.path, "columns", name, "nullable"),
                f"column '{name}' is in the primary key; it cannot be nullable",
            )


def _column(scope: Scope, name: str, spec: dict[str, object]) -> DeclaredColumn:
    """One column, with its type and expressions checked and PostgreSQL's forbidden mixes."""
    context = scope.context
    path = at_path(scope.path, "columns", name)
    what = f"column '{name}'"
    context.check_name(path, "column name", name)
    type_text = (text_of(spec.get("type")) or "").strip()
    identity_spec = spec.get("identity")
    identity_map = mapping_of(identity_spec)
    identity = text_of(identity_map.get("generated") if identity_map else identity_spec)
    if type_text:
        _check_type(context, path, what, type_text, identity is not None)
    # Most columns give few of the keys: the others cost no path or message.
    given = spec.keys()
    column = DeclaredColumn(
        name=name,
        type=type_text,
        source=context.key(path),
        nullable=bool_of(spec.get("nullable"), True) and identity is None,
        default=_literal(context, path, what, spec, "default") if "default" in given else None,
        identity=identity,
        identity_options=_identity_options(identity_map),
        generated=_expression(context, path, what, spec, "generated")
        if "generated" in given
        else None,
        collation=text_of(spec.get("collation")),
        comment=text_of(spec.get("comment")),
        using=_expression(context, path, what, spec, "using") if "using" in given else None,
        backfill=_literal(context, path, what, spec, "backfill") if "backfill" in given else None,
        backfill_where=_expression(context, path, what, spec, "backfill_where")
        if "backfill_where" in given
        else None,
        renamed_from=text_of(spec.get("renamed_from")),
        state=text_of(spec.get("state")) or "present",
    )
    _check_column_mix(context, path, column, spec)
    return column


def _literal(
    context: Context, path: JsonPath, what: str, spec: dict[str, object], key: str
) -> str | None:
    return context.literal(at_path(path, key), spec.get(key), f"{key} of {what}")


def _expression(
    context: Context, path: JsonPath, what: str, spec: dict[str, object], key: str
) -> str | None:
    return context.expression(at_path(path, key), spec.get(key), f"{key} of {what}")


IDENTITY_OPTIONS = ("cache", "cycle", "increment", "max", "min", "start")


def _identity_options(spec: dict[str, object]) -> tuple[tuple[str, str], ...]:
    """The sequence options written, as text, sorted by name (as the catalog is read)."""
    if not spec:
        return ()  # most columns: no identity, or one written as a word
    return tuple(
        (key, str(spec[key]).lower() if isinstance(spec[key], bool) else str(spec[key]))
        for key in IDENTITY_OPTIONS
        if isinstance(spec.get(key), (int, bool))
    )


def _check_type(
    context: Context, path: JsonPath, what: str, type_text: str, identity: bool
) -> None:
    try:
        parsed = check_type(type_text)
    except SqlProblem as problem:
        context.error(at_path(path, "type"), f"type of {what} {problem}")
        return
    if identity and not parsed.is_integer():
        context.error(
            at_path(path, "identity"),
            f"identity {what} must be smallint, integer or bigint, not {type_text}",
        )


def _check_column_mix(
    context: Context, path: JsonPath, column: DeclaredColumn, spec: dict[str, object]
) -> None:
    """Combinations PostgreSQL rejects, reported where the second one is written."""
    what = f"column '{column.name}'"
    if column.identity and column.default is not None:
        context.error(at_path(path, "default"), f"identity {what} cannot have a default")
    if column.generated is not None and column.default is not None:
        context.error(at_path(path, "default"), f"generated {what} cannot have a default")
    if column.identity and column.generated is not None:
        context.error(at_path(path, "generated"), f"{what} cannot be both identity and generated")
    if column.identity and spec.get("nullable") is True:
        context.error(at_path(path, "nullable"), f"identity {what} cannot be nullable")
    if column.backfill is not None and (column.identity or column.generated is not None):
        kind = "identity" if column.identity else "generated"
        context.error(at_path(path, "backfill"), f"{kind} {what} cannot be backfilled")
    if column.backfill_where is not None and "backfill" not in spec:
        context.error(at_path(path, "backfill_where"), f"backfill_where of {what} needs a backfill")


def declared_index(scope: Scope, name: str, spec: dict[str, object]) -> DeclaredIndex:
    context = scope.context
    path = at_path(scope.path, "indexes", name)
    what = f"index '{name}'"
    context.check_name(path, "index name", name)
    state = text_of(spec.get("state")) or "present"
    using = (text_of(spec.get("using")) or "btree").lower()  # unquoted in SQL: any case
    checked = Scope(context, scope.name, path, scope.columns, scope.present and state == "present")
    keys = tuple(
        _index_key(checked, at_path(path, "columns", i), entry, what, using)
        for i, entry in enumerate(list_of(spec.get("columns")))
    )
    unique = bool_of(spec.get("unique"), False)
    if unique and using != "btree":
        context.error(at_path(path, "unique"), f"{what} uses {using}, which cannot be unique")
    if "include" in spec and using in _NO_INCLUDE:
        context.error(
            at_path(path, "include"), f"{what} uses {using}, which cannot include columns"
        )
    return DeclaredIndex(
        name=name,
        keys=keys,
        source=context.key(path),
        unique=unique,
        using=using,
        where=context.expression(at_path(path, "where"), spec.get("where"), f"where of {what}"),
        include=checked.column_list(
            at_path(path, "include"), spec.get("include"), f"{what} (include)"
        ),
        nulls_distinct=bool_of(spec.get("nulls_distinct"), True),
        with_options=storage_options(context, at_path(path, "with"), spec.get("with")),
        comment=text_of(spec.get("comment")),
        renamed_from=text_of(spec.get("renamed_from")),
        state=state,
    )


def _index_key(
    scope: Scope, path: JsonPath, entry: object, what: str, using: str
) -> DeclaredIndexKey:
    if isinstance(entry, str):
        scope.uses(path, entry, what)
        return DeclaredIndexKey(column=entry)
    spec = mapping_of(entry)
    context = scope.context
    key_what = f"key {int(path[-1]) + 1} of {what}"
    if ("column" in spec) == ("expr" in spec):
        context.error(path, f"{key_what} needs exactly one of column or expr")
    column = text_of(spec.get("column"))
    if column is not None:
        scope.uses(at_path(path, "column"), column, what)
    for option in ("order", "nulls"):
        if option in spec and using != "btree":
            context.error(at_path(path, option), f"{key_what}: {option} needs a btree index")
    return DeclaredIndexKey(
        column=column,
        expr=context.expression(at_path(path, "expr"), spec.get("expr"), f"expr of {key_what}"),
        opclass=text_of(spec.get("opclass")),
        order=text_of(spec.get("order")),
        nulls=text_of(spec.get("nulls")),
        collation=text_of(spec.get("collation")),
    )


def storage_options(context: Context, path: JsonPath, value: object) -> tuple[tuple[str, str], ...]:
    options: list[tuple[str, str]] = []
    for key, item in mapping_of(value).items():
        if isinstance(item, bool):
            options.append((key, "true" if item else "false"))
        elif isinstance(item, int | float):
            options.append((key, number_text(item, context.written(at_path(path, key)))))
        elif isinstance(item, str):
            options.append((key, item))
    return tuple(sorted(options))
