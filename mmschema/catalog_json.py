"""Catalog to and from plain JSON values (for the normalization cache)."""

from __future__ import annotations

from typing import Any

from mmschema.codec import from_plain, to_plain
from mmschema.model import Catalog, Table, UserType


def catalog_to_json(catalog: Catalog) -> dict[str, Any]:
    return {
        "tables": [to_plain(t) for t in catalog.tables.values()],
        "extensions": sorted(catalog.extensions),
        "schemas": sorted(catalog.schemas),
        "server_version": catalog.server_version,
        "types": [to_plain(t) for t in catalog.types],
    }


def catalog_from_json(data: dict[str, Any]) -> Catalog:
    tables = [from_plain(Table, t) for t in data["tables"]]
    return Catalog(
        tables={t.name: t for t in tables},
        extensions=frozenset(data["extensions"]),
        schemas=frozenset(data["schemas"]),
        server_version=int(data["server_version"]),
        types=tuple(from_plain(UserType, t) for t in data.get("types", [])),
    )
