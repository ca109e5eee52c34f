"""The kinds' catalog queries, read from mmschema/kinds/sql/."""

from __future__ import annotations

from importlib import resources
from typing import LiteralString


def kind_sql(name: str) -> LiteralString:
    text: LiteralString = resources.files("mmschema.kinds").joinpath("sql", name).read_text()
    return text
