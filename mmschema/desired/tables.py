"""Build one declared table (columns, indexes, constraints) from its YAML, checking it."""

from __future__ import annotations

from dataclasses import replace

from mmschema.desired.build import (
    Context,
    Scope,
    bool_of,
    deferrable_of,
    list_of,
    mapping_of,
    number_text,
    text_of,
)
from mmschema.desired.checks import shown
from mmschema.desired.declared import (
    DeclaredCheck,
    DeclaredColumn,
    DeclaredExclusion,
    DeclaredForeignKey,
    DeclaredIndex,
    DeclaredIndexKey,
    DeclaredPartitionColumn,
    DeclaredPrimaryKey,
    DeclaredTable,
    DeclaredUnique,
    Source,
)
from mmschema.desired.sqltext import (
    SqlProblem,
    check_exclusion,
    check_partition_bound,
    check_partition_by,
    check_type,
)
from mmschema.desired.yamlpos import JsonPath
from mmschema.model import QualifiedName
from mmschema.words import count

MAX_COLUMNS = 1600  # PostgreSQL's MaxHeapAttributeNumber

_NO_INCLUDE = frozenset({"hash", "gin", "brin"})  # access methods without INCLUDE support


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
    columns = _columns(scope, spec) if parent is None else []  # else: partition_columns
    primary_key = _primary_key(scope, spec.get("primary_key"))
    if primary_key is not None:  # PostgreSQL makes primary key columns NOT NULL
        _check_key_nullable(scope, spec, primary_key)
        columns = [
            replace(c, nullable=False) if c.name in primary_key.columns else c for c in columns
        ]
    indexes = [
        _index(scope, index_name, index_spec)
        for index_name, index_spec in mapping_of(spec.get("indexes")).items()
        if isinstance(index_spec, dict)
    ]
    scope.check_renames(
        [(i.name, i.renamed_from, _at(path, "indexes", i.name)) for i in indexes], "index"
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
        unique=_unique(scope, spec.get("unique")),
        foreign_keys=_foreign_keys(scope, spec.get("foreign_keys")),
        checks=_checks(scope, spec.get("checks")),
        exclusions=_exclusions(scope, spec.get("exclude")),
        partition_by=_clause(context, _at(path, "partition_by"), spec.get("partition_by"), key),
        partition_of=parent,
        partition_bound=_clause(context, _at(path, "partition_of", "bound"), bound, key)
        if parent is not None
        else None,
        partition_columns=_partition_columns(context, path, spec) if parent else (),
        unlogged=_flag(spec.get("unlogged")),
        row_security=_row_security(spec.get("row_level_security")),
        replica_identity=_replica_identity(spec.get("replica_identity")),
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
        where = _at(path, "columns", name)
        nullable = options.get("nullable")
        built.append(
            DeclaredPartitionColumn(
                name=name,
                source=context.key(where),
                nullable=nullable if isinstance(nullable, bool) else None,
                default=context.literal(
                    _at(where, "default"), options.get("default"), f"default of column '{name}'"
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
    path = _at(scope.path, "replica_identity", "index")
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


def _at(path: JsonPath, *more: str | int) -> JsonPath:
    return (*path, *more)


def _renamed_table(
    context: Context, path: JsonPath, value: object, schema: str
) -> QualifiedName | None:
    if not isinstance(value, str):
        return None
    return context.table_name(_at(path, "renamed_from"), value, schema, "renamed_from")


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
    return "forced" if value == "forced" else None


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
    return context.table_name(_at(path, "partition_of", "table"), value, schema, "partition_of")


def _columns(scope: Scope, spec: dict[str, object]) -> list[DeclaredColumn]:
    columns = mapping_of(spec.get("columns"))
    built = [_column(scope, n, s) for n, s in columns.items() if isinstance(s, dict)]
    scope.columns = {c.name: c for c in built}
    if len(built) > MAX_COLUMNS:
        over = built[MAX_COLUMNS].name
        scope.context.key_error(
            _at(scope.path, "columns", over),
            f"column '{over}': tables can have at most {MAX_COLUMNS} columns",
        )
    scope.check_renames(
        [(c.name, c.renamed_from, _at(scope.path, "columns", c.name)) for c in built], "column"
    )
    return built


def _check_key_nullable(scope: Scope, spec: dict[str, object], key: DeclaredPrimaryKey) -> None:
    columns = mapping_of(spec.get("columns"))
    for name in key.columns:
        if mapping_of(columns.get(name)).get("nullable") is True:
            scope.context.error(
                _at(scope.path, "columns", name, "nullable"),
                f"column '{name}' is in the primary key; it cannot be nullable",
            )


def _column(scope: Scope, name: str, spec: dict[str, object]) -> DeclaredColumn:
    """One column, with its type and expressions checked and PostgreSQL's forbidden mixes."""
    context = scope.context
    path = _at(scope.path, "columns", name)
    what = f"column '{name}'"
    context.check_name(path, "column name", name)
    type_text = (text_of(spec.get("type")) or "").strip()
    identity_spec = spec.get("identity")
    identity_map = mapping_of(identity_spec)
    identity = text_of(identity_map.get("generated") if identity_map else identity_spec)
    if type_text:
        _check_type(context, path, what, type_text, identity is not None)
    column = DeclaredColumn(
        name=name,
        type=type_text,
        source=context.key(path),
        nullable=bool_of(spec.get("nullable"), True) and identity is None,
        default=context.literal(_at(path, "default"), spec.get("default"), f"default of {what}"),
        identity=identity,
        identity_options=_identity_options(identity_map),
        generated=context.expression(
            _at(path, "generated"), spec.get("generated"), f"generated of {what}"
        ),
        collation=text_of(spec.get("collation")),
        comment=text_of(spec.get("comment")),
        using=context.expression(_at(path, "using"), spec.get("using"), f"using of {what}"),
        backfill=context.literal(
            _at(path, "backfill"), spec.get("backfill"), f"backfill of {what}"
        ),
        backfill_where=context.expression(
            _at(path, "backfill_where"), spec.get("backfill_where"), f"backfill_where of {what}"
        ),
        renamed_from=text_of(spec.get("renamed_from")),
        state=text_of(spec.get("state")) or "present",
    )
    _check_column_mix(context, path, column, spec)
    return column


IDENTITY_OPTIONS = ("cache", "cycle", "increment", "max", "min", "start")


def _identity_options(spec: dict[str, object]) -> tuple[tuple[str, str], ...]:
    """The sequence options written, as text, sorted by name (as the catalog is read)."""
    return tuple(
        (key, str(spec[key]).lower() if isinstance(spec[key], bool) else str(spec[key]))
        for key in IDENTITY_OPTIONS
        if isinstance(spec.get(key), int | bool)
    )


def _check_type(
    context: Context, path: JsonPath, what: str, type_text: str, identity: bool
) -> None:
    try:
        parsed = check_type(type_text)
    except SqlProblem as problem:
        context.error(_at(path, "type"), f"type of {what} {problem}")
        return
    if identity and not parsed.is_integer():
        context.error(
            _at(path, "identity"),
            f"identity {what} must be smallint, integer or bigint, not {type_text}",
        )


def _check_column_mix(
    context: Context, path: JsonPath, column: DeclaredColumn, spec: dict[str, object]
) -> None:
    """Combinations PostgreSQL rejects, reported where the second one is written."""
    what = f"column '{column.name}'"
    if column.identity and column.default is not None:
        context.error(_at(path, "default"), f"identity {what} cannot have a default")
    if column.generated is not None and column.default is not None:
        context.error(_at(path, "default"), f"generated {what} cannot have a default")
    if column.identity and column.generated is not None:
        context.error(_at(path, "generated"), f"{what} cannot be both identity and generated")
    if column.identity and spec.get("nullable") is True:
        context.error(_at(path, "nullable"), f"identity {what} cannot be nullable")
    if column.backfill is not None and (column.identity or column.generated is not None):
        kind = "identity" if column.identity else "generated"
        context.error(_at(path, "backfill"), f"{kind} {what} cannot be backfilled")
    if column.backfill_where is not None and column.backfill is None:
        context.error(_at(path, "backfill_where"), f"backfill_where of {what} needs a backfill")


def _index(scope: Scope, name: str, spec: dict[str, object]) -> DeclaredIndex:
    context = scope.context
    path = _at(scope.path, "indexes", name)
    what = f"index '{name}'"
    context.check_name(path, "index name", name)
    state = text_of(spec.get("state")) or "present"
    using = (text_of(spec.get("using")) or "btree").lower()  # unquoted in SQL: any case
    checked = Scope(context, scope.name, path, scope.columns, scope.present and state == "present")
    keys = tuple(
        _index_key(checked, _at(path, "columns", i), entry, what, using)
        for i, entry in enumerate(list_of(spec.get("columns")))
    )
    unique = bool_of(spec.get("unique"), False)
    if unique and using != "btree":
        context.error(_at(path, "unique"), f"{what} uses {using}, which cannot be unique")
    if "include" in spec and using in _NO_INCLUDE:
        context.error(_at(path, "include"), f"{what} uses {using}, which cannot include columns")
    return DeclaredIndex(
        name=name,
        keys=keys,
        source=context.key(path),
        unique=unique,
        using=using,
        where=context.expression(_at(path, "where"), spec.get("where"), f"where of {what}"),
        include=checked.column_list(_at(path, "include"), spec.get("include"), f"{what} (include)"),
        nulls_distinct=bool_of(spec.get("nulls_distinct"), True),
        with_options=_with_options(context, _at(path, "with"), spec.get("with")),
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
        scope.uses(_at(path, "column"), column, what)
    for option in ("order", "nulls"):
        if option in spec and using != "btree":
            context.error(_at(path, option), f"{key_what}: {option} needs a btree index")
    return DeclaredIndexKey(
        column=column,
        expr=context.expression(_at(path, "expr"), spec.get("expr"), f"expr of {key_what}"),
        opclass=text_of(spec.get("opclass")),
        order=text_of(spec.get("order")),
        nulls=text_of(spec.get("nulls")),
        collation=text_of(spec.get("collation")),
    )


def _with_options(context: Context, path: JsonPath, value: object) -> tuple[tuple[str, str], ...]:
    options: list[tuple[str, str]] = []
    for key, item in mapping_of(value).items():
        if isinstance(item, bool):
            options.append((key, "true" if item else "false"))
        elif isinstance(item, int | float):
            options.append((key, number_text(item, context.written(_at(path, key)))))
        elif isinstance(item, str):
            options.append((key, item))
    return tuple(sorted(options))


def _primary_key(scope: Scope, value: object) -> DeclaredPrimaryKey | None:
    path = _at(scope.path, "primary_key")
    if isinstance(value, list):
        names = scope.column_list(path, value, "primary key")
        return DeclaredPrimaryKey(names, None, scope.context.key(path))
    if not isinstance(value, dict):
        return None
    name = text_of(value.get("name"))
    if name is not None:
        scope.context.check_name(_at(path, "name"), "primary key name", name)
    names = scope.column_list(_at(path, "columns"), value.get("columns"), "primary key")
    renamed = text_of(value.get("renamed_from"))
    return DeclaredPrimaryKey(names, name, scope.context.key(path), renamed)


def _unique(scope: Scope, value: object) -> tuple[DeclaredUnique, ...]:
    built: list[DeclaredUnique] = []
    for name, spec in mapping_of(value).items():
        path = _at(scope.path, "unique", name)
        if not isinstance(spec, dict):
            continue
        what = f"unique constraint '{name}'"
        scope.context.check_name(path, "constraint name", name)
        deferrable, deferred = deferrable_of(spec.get("deferrable"))
        built.append(
            DeclaredUnique(
                name=name,
                columns=scope.column_list(_at(path, "columns"), spec.get("columns"), what),
                source=scope.context.key(path),
                deferrable=deferrable,
                initially_deferred=deferred,
                nulls_distinct=bool_of(spec.get("nulls_distinct"), True),
                renamed_from=text_of(spec.get("renamed_from")),
            )
        )
    return tuple(built)


def _foreign_keys(scope: Scope, value: object) -> tuple[DeclaredForeignKey, ...]:
    built: list[DeclaredForeignKey] = []
    for name, spec in mapping_of(value).items():
        if isinstance(spec, dict):
            built.append(_foreign_key(scope, name, spec))
    return tuple(built)


def _foreign_key(scope: Scope, name: str, spec: dict[str, object]) -> DeclaredForeignKey:
    context = scope.context
    path = _at(scope.path, "foreign_keys", name)
    what = f"foreign key '{name}'"
    context.check_name(path, "constraint name", name)
    columns = scope.column_list(_at(path, "columns"), spec.get("columns"), what)
    target = mapping_of(spec.get("references"))
    table_text = text_of(target.get("table"))
    references = (
        context.table_name(_at(path, "references", "table"), table_text, "public", "table")
        if table_text
        else QualifiedName("public", "")
    )
    referenced = tuple(c for c in list_of(target.get("columns")) if isinstance(c, str))
    if referenced and columns and len(referenced) != len(columns):
        context.error(
            _at(path, "references", "columns"),
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


def _checks(scope: Scope, value: object) -> tuple[DeclaredCheck, ...]:
    built: list[DeclaredCheck] = []
    for name, spec in mapping_of(value).items():
        path = _at(scope.path, "checks", name)
        scope.context.check_name(path, "constraint name", name)
        options = mapping_of(spec)
        expr_path = _at(path, "expr") if options else path
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


def _exclusions(scope: Scope, value: object) -> tuple[DeclaredExclusion, ...]:
    built: list[DeclaredExclusion] = []
    for name, body in mapping_of(value).items():
        path = _at(scope.path, "exclude", name)
        scope.context.check_name(path, "constraint name", name)
        if not isinstance(body, str) or not body.strip():
            continue  # the JSON Schema check reports it
        try:
            check_exclusion(body.strip())
        except SqlProblem as problem:
            scope.context.error(path, f"exclusion constraint '{name}' {problem}")
        built.append(DeclaredExclusion(name, body.strip(), scope.context.key(path)))
    return tuple(built)


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
