"""Writes a schema.yaml that declares the live database as it is: which tables, the file's
frame (version, extensions, enums), and every kind's sections."""

from __future__ import annotations

from typing import Any

import psycopg
import yaml

from mmschema.introspect import catalog_sql, read_catalog
from mmschema.kinds.grants import with_privileges
from mmschema.kinds.tables.dump import SQL_PLAIN_IDENTIFIER, table_key
from mmschema.model import Catalog, QualifiedName, UserType
from mmschema.pipeline.kinds import TABLES, dump_objects


class NotFound(Exception):
    """A schema or table the user named that the database does not have."""


def list_tables(conn: psycopg.Connection[Any], schemas: list[str]) -> list[QualifiedName]:
    rows = conn.execute(catalog_sql("list_tables"), {"schemas": schemas}).fetchall()
    return [QualifiedName(schema, name) for schema, name in rows]


def user_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Every schema but PostgreSQL's own and mmschema's, in name order."""
    return [str(row[0]) for row in conn.execute(catalog_sql("user_schemas")).fetchall()]


def chosen_tables(
    conn: psycopg.Connection[Any], schemas: list[str] | None, only: list[str] | None = None
) -> list[QualifiedName]:
    """The tables of `schemas` (default: every user schema), narrowed to `only`.

    Each name in `only` is a table (`name` or `schema.name`) or a whole schema; a schema
    or name that matches nothing raises NotFound, so a typo never dumps an empty file.
    """
    present = user_schemas(conn)
    missing = [s for s in schemas or [] if s not in present]
    if missing:
        raise NotFound(f"schema {', '.join(missing)} does not exist")
    names = list_tables(conn, schemas or present)
    if not only:
        return names
    chosen: list[QualifiedName] = []
    for wanted in only:
        matched = [n for n in names if wanted in (n.name, str(n), n.schema)]
        if not matched:
            raise NotFound(f"{wanted}: no table or schema of that name")
        chosen.extend(n for n in matched if n not in chosen)
    return chosen


def dump_yaml(
    conn: psycopg.Connection[Any], schemas: list[str] | None, only: list[str] | None = None
) -> str:
    """The schema.yaml text of the tables of `schemas` (default: all) that `only` names."""
    names = list_tables(conn, schemas or user_schemas(conn))
    if only:
        wanted = set(only)
        names = [n for n in names if n.name in wanted or str(n) in wanted]
    return dump_tables(conn, names)


def dump_schema(
    conn: psycopg.Connection[Any],
    names: list[QualifiedName],
    schemas: list[str] | None,
    only: list[str] | None = None,
    *,
    all_grants: bool = False,
) -> str:
    """The schema.yaml text of these tables and of every other kind's objects in `schemas`
    (default: every user schema) that `only` names, if given; `all_grants`: every entry's
    `grants`, default privileges too."""
    catalog = read_catalog(conn, names)
    document = catalog_document(catalog, conn)
    dumped = schemas or user_schemas(conn)
    if not only:  # every enum of the dumped schemas, used or not: the file manages them
        enums = document.setdefault("enums", {})
        for t in catalog.types:
            if t.kind == "enum" and t.name.schema in dumped:
                enums.setdefault(table_key(t.name), {"labels": list(t.labels)})
        if not enums:
            del document["enums"]
    document.update(dump_objects(conn, dumped, only or []))
    document = with_type_enums(document, catalog)
    with_privileges(conn, document, [] if only else dumped, every=all_grants)
    return document_text(document)


def dump_tables(conn: psycopg.Connection[Any], names: list[QualifiedName]) -> str:
    """The schema.yaml text that declares these tables as they are."""
    catalog = read_catalog(conn, names)
    return document_text(catalog_document(catalog, conn))


def document_text(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def catalog_document(
    catalog: Catalog, conn: psycopg.Connection[Any] | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {"version": 1}
    extensions = sorted(catalog.extensions - {"plpgsql"})
    if extensions:
        document["extensions"] = extensions
    enums = used_enums(catalog)
    if enums:
        document["enums"] = {table_key(e.name): {"labels": list(e.labels)} for e in enums}
    document[TABLES.file_key] = TABLES.document(catalog, conn)
    return document


def used_enums(catalog: Catalog) -> list[UserType]:
    """The enum types the tables' columns use (arrays of them included)."""
    used = {
        column.type.removesuffix("[]").removesuffix("[]")
        for table in catalog.tables.values()
        for column in table.columns
    }
    return [
        t
        for t in catalog.types
        if t.kind == "enum" and any(spelling in used for spelling in type_spellings(t.name))
    ]


def with_type_enums(document: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """The document with the enums its domains, composite and range types use (no column
    may): each goes with the other enums, before the tables."""
    written: set[str] = set()
    for spec in (document.get("domains") or {}).values():
        written.add(str(spec.get("type", "")))
    for spec in (document.get("composite_types") or {}).values():
        for attribute in (spec.get("attributes") or {}).values():
            written.add(
                str(attribute.get("type", "") if isinstance(attribute, dict) else attribute)
            )
    for spec in (document.get("range_types") or {}).values():
        written.add(str(spec.get("subtype", "")))
    used = {text.removesuffix("[]").removesuffix("[]") for text in written}
    enums = dict(document.get("enums") or {})
    for enum in catalog.types:
        key = table_key(enum.name)
        if enum.kind == "enum" and key not in enums and type_spellings(enum.name) & used:
            enums[key] = {"labels": list(enum.labels)}
    if not enums:
        return document
    ordered = {k: v for k, v in document.items() if k in ("version", "extensions")}
    return {**ordered, "enums": enums, **document}


def type_spellings(name: QualifiedName) -> set[str]:
    """How format_type() may print a type: bare when its schema is on the search path."""

    def quoted(part: str) -> str:
        return part if SQL_PLAIN_IDENTIFIER.match(part) else '"' + part.replace('"', '""') + '"'

    return {quoted(name.name), f"{quoted(name.schema)}.{quoted(name.name)}"}
