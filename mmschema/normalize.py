"""Puts declared (or foreign-version) tables through a scratch server to get PostgreSQL's spelling.

The objects are created in a transaction on the scratch server, read back with the same
catalog queries as the target, and rolled back: the server is the parser. Results are
cached by the statements' text and the scratch server's identity, so a warm plan starts
no scratch server at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from pglast.parser import ParseError, parse_sql_json
from psycopg import sql

from mmschema import __version__, cachefile, ddl
from mmschema.desired.declared import (
    DeclaredIndex,
    DeclaredTable,
    DesiredState,
    InvalidFile,
    Source,
)
from mmschema.introspect import read_catalog_in_transaction
from mmschema.locks import Form
from mmschema.model import (
    Catalog,
    Check,
    Column,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    QualifiedName,
    Table,
    UniqueConstraint,
    UserType,
)

CACHE_FORMAT = "3"


@dataclass
class Scratch:
    """A scratch server: an identity for cache keys, and a way to connect when needed."""

    identity: str
    connect: Callable[[], psycopg.Connection[Any]]


@dataclass(frozen=True)
class ScratchStep:
    statement: str
    source: str  # "path:line:column: what" prefix for errors
    table: QualifiedName | None = None
    optional: bool = False  # a failure is skipped: what depends on it reports the error


def raw_column(column: Any) -> Column:
    return Column(
        name=column.name,
        type=column.type,
        nullable=column.nullable,
        default=column.default,
        identity=column.identity,
        generated=column.generated,
        collation=column.collation,
        comment=column.comment,
    )


def raw_index(index: DeclaredIndex) -> Index:
    keys = tuple(
        IndexKey(
            expr=key.column if key.column is not None else key.expr or "",
            is_column=key.column is not None,
            opclass=key.opclass,
            descending=key.order == "desc",
            nulls_first=(key.nulls == "first") if key.nulls else key.order == "desc",
            collation=key.collation,
        )
        for key in index.keys
    )
    return Index(
        name=index.name,
        keys=keys,
        unique=index.unique,
        method=index.using,
        where=index.where,
        include=index.include,
        nulls_distinct=index.nulls_distinct,
        with_options=index.with_options,
        comment=index.comment,
    )


def raw_table(table: DeclaredTable) -> Table:
    """The declared table as written, for DDL of new objects (serial stays serial)."""
    key = None
    if table.primary_key:
        name = table.primary_key.name or f"{table.name.name}_pkey"
        key = PrimaryKey(name, table.primary_key.columns)
    return Table(
        name=table.name,
        columns=tuple(raw_column(c) for c in table.present_columns()),
        primary_key=key,
        indexes=tuple(raw_index(i) for i in table.present_indexes()),
        comment=table.comment,
    )


def _where(source: Source, what: str) -> str:
    return f"{source}: {what}"


def extension_steps(extensions: frozenset[str] | set[str]) -> list[ScratchStep]:
    """The target's extensions, where the scratch server has them (their types, opclasses)."""
    return [
        ScratchStep(
            ddl.statements_for_extension(name), f"extension {name} of the target", optional=True
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


def desired_steps(desired: DesiredState, types: tuple[UserType, ...] = ()) -> list[ScratchStep]:
    """One scratch statement per declared object, so an error points at its declaration."""
    steps = [
        ScratchStep(ddl.statements_for_extension(name), f"extensions: extension {name!r}", None)
        for name in desired.extensions
    ]
    steps.extend(type_steps(types))
    for table in desired.present_tables():
        steps.extend(_table_steps(table))
    return steps


def _table_steps(table: DeclaredTable) -> list[ScratchStep]:
    raw = raw_table(table)
    name = table.name
    label = f"table {name}"
    steps = [
        ScratchStep(ddl.render(ddl.create_schema(name.schema)), _where(table.source, label), name),
        ScratchStep(ddl.render(ddl.create_empty_table(name)), _where(table.source, label), name),
    ]
    for declared, column in zip(table.present_columns(), raw.columns, strict=True):
        for sequence in referenced_sequences(column.default or ""):
            sequence_sql = sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(sql.SQL(sequence))
            where = _where(declared.source, f"column {column.name!r}")
            steps.append(ScratchStep(ddl.render(sequence_sql), where, name))
        add = ddl.alter_table(
            name,
            Form.ADD_COLUMN,
            sql.SQL("ADD COLUMN {}").format(ddl.column_definition(column)),
        )
        steps.append(ScratchStep(add.sql, _where(declared.source, f"column {column.name!r}"), name))
    if table.primary_key:
        columns = sql.SQL(", ").join(map(sql.Identifier, table.primary_key.columns))
        if table.primary_key.name:
            action = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                sql.Identifier(table.primary_key.name), columns
            )
        else:
            action = sql.SQL("ADD PRIMARY KEY ({})").format(columns)
        pk = ddl.alter_table(name, Form.ADD_PRIMARY_KEY, action)
        steps.append(ScratchStep(pk.sql, _where(table.source, "primary_key"), name))
    for unique in table.unique:
        constraint = UniqueConstraint(
            unique.name,
            unique.columns,
            unique.deferrable,
            unique.initially_deferred,
            unique.nulls_distinct,
        )
        action = sql.SQL("ADD {}").format(ddl.unique_definition(constraint))
        statement = ddl.alter_table(name, Form.ADD_UNIQUE, action)
        steps.append(
            ScratchStep(statement.sql, _where(unique.source, f"unique {unique.name!r}"), name)
        )
    for check in table.checks:
        action = sql.SQL("ADD {}").format(ddl.check_definition(Check(check.name, check.expr)))
        statement = ddl.alter_table(name, Form.ADD_CHECK, action)
        steps.append(
            ScratchStep(statement.sql, _where(check.source, f"check {check.name!r}"), name)
        )
    for statement in ddl.create_table(replace(raw, columns=raw.columns, primary_key=None))[1:]:
        steps.append(ScratchStep(statement.sql, _where(table.source, label), name))
    for declared_index, index in zip(table.present_indexes(), raw.indexes, strict=True):
        where = _where(declared_index.source, f"index {index.name!r}")
        create = ddl.create_index(name, index, index.name, concurrently=False)
        steps.append(ScratchStep(create.sql, where, name))
        if index.comment is not None:
            steps.append(
                ScratchStep(ddl.comment("index", name, index.name, index.comment).sql, where, name)
            )
    return steps


IDENTIFIER = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
SEQUENCE_NAME = re.compile(rf"^({IDENTIFIER}\.)?{IDENTIFIER}$")


def referenced_sequences(expression: str) -> list[str]:
    """Sequences named in nextval('...') calls, so the scratch server can have them too."""
    if "nextval" not in expression:
        return []
    try:
        tree = json.loads(parse_sql_json(f"SELECT {expression}"))
    except ParseError:
        return []
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            call = node.get("FuncCall")
            if call and call.get("args"):
                names = [part.get("String", {}).get("sval") for part in call.get("funcname", [])]
                argument = call["args"][0]
                argument = argument.get("TypeCast", {}).get("arg", argument)
                text = argument.get("A_Const", {}).get("sval", {}).get("sval")
                if names[-1:] == ["nextval"] and text and SEQUENCE_NAME.match(text):
                    found.append(text)
            for value in node.values():
                walk(value)

    walk(tree)
    return found


def catalog_steps(catalog: Catalog) -> list[ScratchStep]:
    """Statements that rebuild a live catalog's tables (for a scratch of another major)."""
    steps = extension_steps(catalog.extensions)
    steps.extend(type_steps(catalog.types))
    for table in catalog.tables.values():
        where = f"live table {table.name}"
        steps.append(ScratchStep(ddl.render(ddl.create_schema(table.name.schema)), where))
        steps.extend(ScratchStep(s.sql, where, table.name) for s in ddl.create_table(table))
        for unique in table.unique:
            action = sql.SQL("ADD {}").format(ddl.unique_definition(unique))
            add = ddl.alter_table(table.name, Form.ADD_UNIQUE, action)
            steps.append(ScratchStep(add.sql, where, table.name))
        for check in table.checks:
            action = sql.SQL("ADD {}").format(ddl.check_definition(check))
            add = ddl.alter_table(table.name, Form.ADD_CHECK, action)
            steps.append(ScratchStep(add.sql, where, table.name))
        for index in table.indexes:
            created = ddl.create_index(table.name, index, index.name, concurrently=False)
            steps.append(ScratchStep(created.sql, where, table.name))
            if index.comment is not None:
                comment = ddl.comment("index", table.name, index.name, index.comment)
                steps.append(ScratchStep(comment.sql, where, table.name))
    return steps


class NormalizeCache:
    """Scratch results on disk, keyed by the statements and the scratch server's identity."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def key(self, identity: str, inputs: object, names: list[QualifiedName]) -> str:
        """Everything the scratch result depends on; inputs must have an exact repr()."""
        text = repr((CACHE_FORMAT, __version__, identity, inputs, [str(n) for n in names]))
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> Catalog | None:
        if self.directory is None:
            return None
        catalog = cachefile.read(self.directory / f"{key}.pickle")
        return catalog if isinstance(catalog, Catalog) else None

    def put(self, key: str, catalog: Catalog) -> None:
        if self.directory is not None:
            cachefile.write(self.directory / f"{key}.pickle", catalog)


def run_on_scratch(
    scratch: Scratch,
    make_steps: Callable[[], list[ScratchStep]],
    key: str,
    names: list[QualifiedName],
    cache: NormalizeCache,
    tolerate_errors: bool = False,
) -> Catalog:
    """Create the objects on the scratch server, read them back, roll back.

    The steps are only rendered on a cache miss: on a warm cache, `key` (made from
    what the steps are made from) is all it costs.
    """
    cached = cache.get(key)
    if cached is not None:
        return cached
    steps = make_steps()
    errors: list[str] = []
    failed_tables: set[QualifiedName] = set()
    with scratch.connect() as conn:
        conn.autocommit = False
        conn.execute("SET search_path = public")
        conn.execute("SET check_function_bodies = off")
        for step in steps:
            if step.table is not None and step.table in failed_tables:
                continue
            try:
                with conn.transaction():
                    conn.execute(step.statement.encode())
            except psycopg.Error as error:
                if step.optional:
                    continue
                if step.table is not None:
                    failed_tables.add(step.table)
                errors.append(f"{step.source}: {_server_message(error)}")
        if errors and not tolerate_errors:
            conn.rollback()
            raise InvalidFile(errors)
        catalog = read_catalog_in_transaction(conn, names)
        conn.rollback()
    cache.put(key, catalog)
    return catalog


def _server_message(error: psycopg.Error) -> str:
    primary = error.diag.message_primary or str(error).strip().splitlines()[0]
    return primary


def function_steps(definitions: list[str]) -> list[ScratchStep]:
    """The target's own functions, which declared expressions may call (bodies unchecked)."""
    return [ScratchStep(text, "a function of the target", optional=True) for text in definitions]


def normalize_desired(
    desired: DesiredState,
    scratch: Scratch,
    cache: NormalizeCache,
    live: Catalog,
    live_functions: Callable[[], list[str]] = list,
) -> Catalog:
    names = [t.name for t in desired.present_tables()]
    extra_extensions = live.extensions - set(desired.extensions)

    def make_steps() -> list[ScratchStep]:
        return [
            *extension_steps(extra_extensions),
            *function_steps(live_functions()),
            *desired_steps(desired, live.types),
        ]

    # The file's text decides its tables (the normalized result holds no positions).
    declared = desired.text or repr(desired.tables)
    inputs = ("desired", declared, desired.extensions, sorted(extra_extensions), live.types)
    key = cache.key(scratch.identity, inputs, names)
    catalog = run_on_scratch(scratch, make_steps, key, names, cache)
    declared_tables = {t.name: t for t in desired.present_tables()}
    tables = {
        name: replace(
            table, foreign_keys=declared_foreign_keys(declared_tables[name], catalog, live)
        )
        for name, table in catalog.tables.items()
    }
    return replace(catalog, tables=tables, extensions=frozenset(desired.extensions))


def declared_foreign_keys(
    table: DeclaredTable, wanted: Catalog, live: Catalog
) -> tuple[ForeignKey, ...]:
    """Foreign keys need no parsing: names are exact. Omitted referenced columns mean the
    referenced table's primary key, as declared in the file or found on the target."""
    keys = []
    for fk in table.foreign_keys:
        referenced = fk.referenced_columns
        if not referenced:
            other = wanted.tables.get(fk.references) or live.tables.get(fk.references)
            referenced = other.primary_key.columns if other and other.primary_key else ()
        keys.append(
            ForeignKey(
                name=fk.name,
                columns=fk.columns,
                references=fk.references,
                referenced_columns=referenced,
                on_delete=fk.on_delete,
                on_update=fk.on_update,
                deferrable=fk.deferrable,
                initially_deferred=fk.initially_deferred,
            )
        )
    return tuple(keys)


def normalize_live(live: Catalog, scratch: Scratch, cache: NormalizeCache) -> Catalog:
    """The live tables as the scratch server prints them (when its major differs)."""
    names = list(live.tables)
    key = cache.key(scratch.identity, ("live", live), names)
    reprinted = run_on_scratch(
        scratch, lambda: catalog_steps(live), key, names, cache, tolerate_errors=True
    )
    tables = {}
    for name, table in live.tables.items():
        again = reprinted.tables.get(name)
        # Keep what the scratch server could not rebuild, and the live facts it cannot know.
        if (
            again is None
            or len(again.columns) != len(table.columns)
            or {i.name for i in again.indexes} != {i.name for i in table.indexes}
            or len(again.unique) != len(table.unique)
            or len(again.checks) != len(table.checks)
        ):
            tables[name] = table
            continue
        valid = {i.name: i.valid for i in table.indexes}
        indexes = tuple(replace(i, valid=valid.get(i.name, True)) for i in again.indexes)
        valid_checks = {c.name: c.valid for c in table.checks}
        checks = tuple(replace(c, valid=valid_checks.get(c.name, True)) for c in again.checks)
        tables[name] = replace(
            again,
            indexes=indexes,
            checks=checks,
            primary_key=table.primary_key,
            foreign_keys=table.foreign_keys,
        )
    return replace(live, tables=tables)
