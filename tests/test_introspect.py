"""Catalog reads are bulk queries: their number does not grow with the number of tables."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mmschema.introspect import (
    TWO_CONNECTIONS_FROM,
    read_catalog,
    read_catalog_in_transaction,
    with_dependents,
)
from mmschema.model import QualifiedName
from mmschema.snapshot_helper import SnapshotHelper
from tests.conftest import run_sql


class CountingCursor(psycopg.Cursor[Any]):
    executed = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        CountingCursor.executed += 1
        return super().execute(*args, **kwargs)


def statements_for(dsn: str, names: list[QualifiedName]) -> int:
    CountingCursor.executed = 0
    with psycopg.connect(dsn, autocommit=True, cursor_factory=CountingCursor) as conn:
        catalog = read_catalog(conn, names)
    assert len(catalog.tables) == len(names)
    return CountingCursor.executed


def test_statement_count_is_the_same_for_1_and_60_tables(db: str) -> None:
    run_sql(
        db,
        "\n".join(
            f"CREATE TABLE t{i} (id int PRIMARY KEY, v text UNIQUE, n int CHECK (n > 0));"
            f"CREATE INDEX t{i}_v ON t{i} (lower(v)) WHERE n > 1;"
            for i in range(60)
        ),
    )
    names = [QualifiedName("public", f"t{i}") for i in range(60)]
    assert statements_for(db, names[:1]) == statements_for(db, names)


def test_read_catalog_sees_indexes_constraints_and_validity(db: str) -> None:
    run_sql(
        db,
        """CREATE TABLE "Mixed" (id int PRIMARY KEY, "Name" text COLLATE "C",
               qty int);
           ALTER TABLE "Mixed" ADD CONSTRAINT qty_positive CHECK (qty > 0) NOT VALID;
           CREATE UNIQUE INDEX mixed_name ON "Mixed" ("Name" DESC NULLS LAST) INCLUDE (qty)
               WITH (fillfactor = 80) WHERE qty > 1;
           COMMENT ON INDEX mixed_name IS 'by name';""",
    )
    with psycopg.connect(db, autocommit=True) as conn:
        catalog = read_catalog(conn, [QualifiedName("public", "Mixed")])
    table = catalog.tables[QualifiedName("public", "Mixed")]
    assert [c.name for c in table.columns] == ["id", "Name", "qty"]
    assert table.column("Name") is not None and table.column("Name").collation == "C"  # type: ignore[union-attr]
    index = table.index("mixed_name")
    assert index is not None
    assert index.unique and index.valid and index.comment == "by name"
    assert index.keys[0].expr == "Name" and index.keys[0].descending
    assert not index.keys[0].nulls_first
    assert index.include == ("qty",)
    assert index.with_options == (("fillfactor", "80"),)
    assert index.where == "(qty > 1)"
    assert table.primary_key is not None and table.primary_key.columns == ("id",)
    assert [(c.name, c.expression, c.valid) for c in table.checks] == [
        ("qty_positive", "(qty > 0)", False)
    ]


def test_policies_and_dependents_are_read_only_when_asked(db: str) -> None:
    run_sql(
        db,
        """CREATE TABLE fills (id int PRIMARY KEY, venue text, qty int);
           CREATE VIEW venues AS SELECT venue FROM fills;
           ALTER TABLE fills ENABLE ROW LEVEL SECURITY;
           CREATE POLICY positive ON fills USING (qty > 0);""",
    )
    names = [QualifiedName("public", "fills")]
    with psycopg.connect(db, autocommit=True) as conn:
        plain = read_catalog(conn, names)
        full = with_dependents(conn, plain, names)
    table = QualifiedName("public", "fills")
    assert [str(v.name) for v in plain.views] == ["public.venues"]  # always read
    assert not plain.dependents_known
    assert plain.tables[table].policies == () and plain.tables[table].dependents == ()
    assert full.dependents_known and full.views == plain.views
    assert [p.name for p in full.tables[table].policies] == ["positive"]
    assert full.tables[table].dependents_of("venue") == ("rule _RETURN on view public.venues",)
    assert full.tables[table].columns == plain.tables[table].columns


MANY = TWO_CONNECTIONS_FROM  # a read this big runs its indexes statement on a 2nd connection


def many_tables(db: str) -> list[QualifiedName]:
    run_sql(
        db,
        "\n".join(
            f"CREATE TABLE m{i} (id int PRIMARY KEY, v text); CREATE INDEX m{i}_v ON m{i} (v);"
            for i in range(MANY)
        ),
    )
    return [QualifiedName("public", f"m{i}") for i in range(MANY)]


@pytest.mark.one_major
def test_a_big_read_on_two_connections_is_the_one_connection_read(db: str) -> None:
    names = many_tables(db)
    helped: list[bool] = []
    original = SnapshotHelper.result

    def result(self: SnapshotHelper, statement: Any) -> Any:
        rows = original(self, statement)
        helped.append(self.rows is not None)
        return rows

    with psycopg.connect(db, autocommit=True) as conn:
        SnapshotHelper.result = result  # type: ignore[method-assign]
        try:
            both = read_catalog(conn, names)
        finally:
            SnapshotHelper.result = original  # type: ignore[method-assign]
        alone = read_catalog(conn, names[: MANY - 1])
    assert helped == [True]
    assert len(both.tables) == MANY and all(t.indexes for t in both.tables.values())
    assert {n: t for n, t in both.tables.items() if n in alone.tables} == alone.tables


@pytest.mark.one_major
def test_a_second_connection_that_cannot_join_the_snapshot_leaves_the_read_to_the_first(
    db: str,
) -> None:
    names = many_tables(db)
    with psycopg.connect(db, autocommit=True) as conn:
        expected = read_catalog(conn, names)
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            helper = SnapshotHelper(conn, lambda _: None)
            helper.start("00000000-0000000F-1")  # no such snapshot: the import fails
            read = read_catalog_in_transaction(conn, names, helper=helper)
    assert helper.rows is None
    assert read == expected
