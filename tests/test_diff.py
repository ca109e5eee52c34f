"""The pure diff and DDL: no database, catalogs written by hand."""

from __future__ import annotations

from mmschema import changes as ch
from mmschema.ddl import statements
from mmschema.desired.load import load_text
from mmschema.diff import diff
from mmschema.kinds.tables.model import (
    Column,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from mmschema.model import Catalog, QualifiedName

T = QualifiedName("public", "t")
FILE = """
version: 1
tables:
  t:
    columns:
      id: {type: bigint}
      name: {type: text}
    primary_key: [id]
    indexes:
      t_name: {columns: [name]}
"""


def table(*columns: Column, indexes: tuple[Index, ...] = (), **kwargs: object) -> Table:
    return Table(T, columns, PrimaryKey("t_pkey", ("id",)), indexes, **kwargs)  # type: ignore[arg-type]


ID = Column("id", "bigint", nullable=False)
NAME = Column("name", "text")
NAME_INDEX = Index("t_name", (IndexKey("name"),))


def catalog(*tables: Table) -> Catalog:
    return Catalog({t.name: t for t in tables}, schemas=frozenset({"public"}))


def kinds(changes: list[ch.Change]) -> list[str]:
    return [ch.kind_of(c) for c in changes]


def test_same_tables_plan_nothing() -> None:
    same = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    assert diff(same, same, load_text(FILE)).changes == []


def test_column_order_of_an_existing_table_is_not_a_change() -> None:
    live = catalog(table(NAME, ID, indexes=(NAME_INDEX,)))
    desired = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    assert diff(live, desired, load_text(FILE)).changes == []


def test_a_changed_index_is_replaced_under_a_temporary_name() -> None:
    live = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    wanted = Index("t_name", (IndexKey("name", descending=True, nulls_first=True),))
    result = diff(live, catalog(table(ID, NAME, indexes=(wanted,))), load_text(FILE))
    assert kinds(result.changes) == ["replace_index"]
    sql = [s.sql for s in statements(result.changes[0])]
    assert sql == [
        'DROP INDEX CONCURRENTLY IF EXISTS "public"."t_name_mmsnew"',
        'CREATE INDEX CONCURRENTLY "t_name_mmsnew" ON "public"."t" USING btree ("name" DESC)',
        'DROP INDEX CONCURRENTLY IF EXISTS "public"."t_name"',
        'ALTER INDEX "public"."t_name_mmsnew" RENAME TO "t_name"',
    ]


def test_an_invalid_index_is_rebuilt() -> None:
    broken = Index("t_name", (IndexKey("name"),), valid=False)
    live = catalog(table(ID, NAME, indexes=(broken,)))
    desired = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    assert kinds(diff(live, desired, load_text(FILE)).changes) == ["rebuild_invalid_index"]


def test_unmanaged_objects_are_reported_and_pruned_only_on_request() -> None:
    extra = Column("legacy", "text")
    other = Index("t_legacy", (IndexKey("legacy"),))
    live = catalog(table(ID, NAME, extra, indexes=(NAME_INDEX, other)))
    desired = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    kept = diff(live, desired, load_text(FILE))
    assert kept.changes == []
    assert kept.unmanaged == ["column public.t.legacy", "index public.t.t_legacy"]
    pruned = diff(live, desired, load_text(FILE), prune=True)
    assert kinds(pruned.changes) == ["drop_index", "drop_column"]


def test_renamed_column_is_renamed_not_dropped() -> None:
    text = FILE.replace("name: {type: text}", "title: {type: text, renamed_from: name}").replace(
        "columns: [name]", "columns: [title]"
    )
    title = Column("title", "text")
    live = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    desired = catalog(table(ID, title, indexes=(Index("t_name", (IndexKey("title"),)),)))
    result = diff(live, desired, load_text(text))
    # The index follows the column in the catalog: a rename rebuilds nothing (issue 10.12).
    assert kinds(result.changes) == ["rename_column"]


def test_identity_needs_not_null_first() -> None:
    text = FILE.replace("id: {type: bigint}", "id: {type: bigint, identity: always}")
    live = catalog(Table(T, (Column("id", "bigint", nullable=True), NAME), None, (NAME_INDEX,)))
    desired = catalog(
        table(
            Column("id", "bigint", nullable=False, identity="always"), NAME, indexes=(NAME_INDEX,)
        )
    )
    result = diff(live, desired, load_text(text))
    assert kinds(result.changes) == [
        "alter_column_nullability",
        "alter_column_identity",
        "add_primary_key",
    ]


def test_foreign_keys_are_dropped_before_and_added_after_unique_constraints() -> None:
    unique = UniqueConstraint("t_name_key", ("name",))
    key = ForeignKey("t_self", ("name",), T, ("name",))
    text = FILE + (
        "    unique:\n      t_name_key: {columns: [name]}\n"
        "    foreign_keys:\n"
        "      t_self: {columns: [name], references: {table: t, columns: [name]}}\n"
    )
    live = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    desired = catalog(table(ID, NAME, indexes=(NAME_INDEX,), unique=(unique,), foreign_keys=(key,)))
    added = kinds(diff(live, desired, load_text(text)).changes)
    assert added == ["add_unique", "add_foreign_key", "validate_constraint"]
    changed = UniqueConstraint("t_name_key", ("name",), deferrable=True)
    desired_changed = catalog(
        table(ID, NAME, indexes=(NAME_INDEX,), unique=(changed,), foreign_keys=(key,))
    )
    live_full = catalog(
        table(ID, NAME, indexes=(NAME_INDEX,), unique=(unique,), foreign_keys=(key,))
    )
    # The foreign key relies on the unique constraint: it goes first and comes back last.
    changes = diff(live_full, desired_changed, load_text(text)).changes
    assert [(ch.kind_of(c), ch.object_of(c)) for c in changes] == [
        ("drop_constraint", "public.t.t_self"),
        ("drop_constraint", "public.t.t_name_key"),
        ("add_unique", "public.t.t_name_key"),
        ("add_foreign_key", "public.t.t_self"),
        ("validate_constraint", "public.t.t_self"),
    ]


def test_new_table_gets_its_indexes_built_plainly() -> None:
    desired = catalog(table(ID, NAME, indexes=(NAME_INDEX,)))
    result = diff(Catalog(schemas=frozenset({"public"})), desired, load_text(FILE))
    assert kinds(result.changes) == ["create_table", "create_index"]
    index_sql = statements(result.changes[1])[0]
    assert index_sql.sql.startswith('CREATE INDEX "t_name"')
    assert index_sql.transactional
