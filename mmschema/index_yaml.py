"""An index as the file writes it (dump, and the kinds that have indexes)."""

from __future__ import annotations

from typing import Any

from mmschema.kinds.tables.model import Index, IndexKey


def index_document(index: Index) -> dict[str, Any]:
    document: dict[str, Any] = {"columns": [key_document(k) for k in index.keys]}
    if index.unique:
        document["unique"] = True
    if index.method != "btree":
        document["using"] = index.method
    if index.where:
        document["where"] = index.where
    if index.include:
        document["include"] = list(index.include)
    if not index.nulls_distinct:
        document["nulls_distinct"] = False
    if index.with_options:
        document["with"] = dict(index.with_options)
    if index.comment is not None:
        document["comment"] = index.comment
    return document


def key_document(key: IndexKey) -> str | dict[str, str]:
    plain = not (key.opclass or key.collation or key.descending or key.nulls_first)
    if key.is_column and plain:
        return key.expr
    document = {"column": key.expr} if key.is_column else {"expr": key.expr}
    if key.opclass:
        document["opclass"] = key.opclass
    if key.collation:
        document["collation"] = key.collation
    if key.descending:
        document["order"] = "desc"
    if key.nulls_first != key.descending:
        document["nulls"] = "first" if key.nulls_first else "last"
    return document
