"""Catalog to and from plain JSON values (for the normalization cache and saved plans)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

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


def table_to_json(table: Table) -> dict[str, Any]:
    return asdict(table)


def table_from_json(data: dict[str, Any]) -> Table:
    key = data["primary_key"]
    return Table(
        name=QualifiedName(**data["name"]),
        columns=tuple(Column(**c) for c in data["columns"]),
        primary_key=PrimaryKey(key["name"], tuple(key["columns"])) if key else None,
        indexes=tuple(index_from_json(i) for i in data["indexes"]),
        comment=data["comment"],
        unique=tuple(unique_from_json(u) for u in data.get("unique", [])),
        foreign_keys=tuple(foreign_key_from_json(f) for f in data.get("foreign_keys", [])),
        checks=tuple(Check(**c) for c in data.get("checks", [])),
    )


def unique_from_json(data: dict[str, Any]) -> UniqueConstraint:
    return UniqueConstraint(**{**data, "columns": tuple(data["columns"])})


def foreign_key_from_json(data: dict[str, Any]) -> ForeignKey:
    return ForeignKey(
        **{
            **data,
            "columns": tuple(data["columns"]),
            "references": QualifiedName(**data["references"]),
            "referenced_columns": tuple(data["referenced_columns"]),
        }
    )


def index_from_json(data: dict[str, Any]) -> Index:
    fields = dict(data)
    fields["keys"] = tuple(IndexKey(**k) for k in data["keys"])
    fields["include"] = tuple(data["include"])
    fields["with_options"] = tuple((k, v) for k, v in data["with_options"])
    return Index(**fields)


def catalog_to_json(catalog: Catalog) -> dict[str, Any]:
    return {
        "tables": [table_to_json(t) for t in catalog.tables.values()],
        "extensions": sorted(catalog.extensions),
        "schemas": sorted(catalog.schemas),
        "server_version": catalog.server_version,
        "types": [asdict(t) for t in catalog.types],
    }


def catalog_from_json(data: dict[str, Any]) -> Catalog:
    tables = [table_from_json(t) for t in data["tables"]]
    return Catalog(
        tables={t.name: t for t in tables},
        extensions=frozenset(data["extensions"]),
        schemas=frozenset(data["schemas"]),
        server_version=int(data["server_version"]),
        types=tuple(user_type_from_json(t) for t in data.get("types", [])),
    )


def user_type_from_json(data: dict[str, Any]) -> UserType:
    return UserType(
        **{
            **data,
            "name": QualifiedName(**data["name"]),
            "labels": tuple(data["labels"]),
            "checks": tuple(data["checks"]),
        }
    )
