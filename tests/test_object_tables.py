"""The tables normalizing the file's other objects needs beside them: by the words they use."""

from __future__ import annotations

from dataclasses import replace

from mmschema.desired.declared import DeclaredColumn, DeclaredTable, Source
from mmschema.model import QualifiedName
from mmschema.object_tables import named_tables


def table(schema: str, name: str) -> DeclaredTable:
    return DeclaredTable(QualifiedName(schema, name), Source("schema.yaml", 1, 1))


def names(found: list[DeclaredTable]) -> list[str]:
    return [str(t.name) for t in found]


TABLES = [
    table("s0", "orders"),
    table("s0", "order_items"),
    table("s1", "Line Items"),
    table("s1", 'odd"name'),
    table("s1", "parent"),
    table("s1", "parent_2024"),
    table("s2", "unused"),
]
LINKS = [(QualifiedName("s1", "parent_2024"), QualifiedName("s1", "parent"))]


def test_a_name_is_taken_as_a_word_in_any_case() -> None:
    found = named_tables(TABLES, ["SELECT * FROM S0.ORDERS"], [])
    assert names(found) == ["s0.orders", 's1.odd"name']  # a doubled quote is never sure


def test_a_name_of_other_characters_is_taken_as_text() -> None:
    found = named_tables(TABLES, ['SELECT 1 FROM s1."Line Items"'], [])
    assert "s1.Line Items" in names(found) and "s0.orders" not in names(found)


def test_linked_tables_come_along_either_way() -> None:
    assert "s1.parent_2024" in names(named_tables(TABLES, ["parent"], LINKS))
    assert "s1.parent" in names(named_tables(TABLES, ["parent_2024"], LINKS))


def test_unicode_escapes_take_every_table() -> None:
    found = named_tables(TABLES, ['SELECT 1 FROM U&"\\006frders"'], [])
    assert len(found) == len(TABLES)



def test_a_table_calling_a_routine_of_the_file_comes_along() -> None:
    """A routine is read back with the tables whose defaults or checks call it."""
    label = DeclaredColumn("label", "text", Source("schema.yaml", 2, 1), default="norm('x')")
    calling = replace(table("public", "items"), columns=(label,))
    found = named_tables([*TABLES, calling], [], [], object_names=["norm"])
    assert names(found) == ['s1.odd"name', "public.items"]
