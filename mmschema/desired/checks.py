"""Checks across the declared tables (duplicates, shared namespaces, references) and names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from mmschema.desired.declared import (
    DeclaredColumn,
    DeclaredPrimaryKey,
    DeclaredTable,
    Source,
)
from mmschema.desired.typecategory import can_reference
from mmschema.kinds.tables.model import ancestors
from mmschema.model import QualifiedName

HISTORY_SCHEMA = "mmschema"  # apply's own history lives there (mmschema.history)
MAX_NAME_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names


class BadName(ValueError):
    """Why a table key cannot be read as `name` or `schema.name`."""


class Report:
    """Collects every error, then lists them sorted by file (in reading order), line, column."""

    def __init__(self) -> None:
        self._files: dict[str, int] = {}
        self._items: list[tuple[tuple[int, int, int], str]] = []
        self._places: set[tuple[int, int, int]] = set()
        # Tables holding a value the format check refused: the checks across tables
        # would report its consequences as faults of their own.
        self.faulty_tables: set[QualifiedName] = set()

    def file(self, path: str) -> None:
        """Register a file so that its errors sort after those of the files read before it."""
        self._files.setdefault(path, len(self._files))

    def add(self, source: Source, message: str) -> None:
        """The first error at a place is kept: a later check of the same value (a wrong
        type, then what it stops) would say the same fault twice."""
        self.file(source.path)
        key = (self._files[source.path], source.line, source.column)
        if key in self._places:
            return
        self._places.add(key)
        self._items.append((key, f"{source}: {message}"))

    def errors(self) -> list[str]:
        return [message for _, message in sorted(self._items, key=lambda item: item[0])]

    def __bool__(self) -> bool:
        return bool(self._items)


def parse_table_name(text: str, default_schema: str = "public") -> QualifiedName:
    """Read `name`, `schema.name` or their double-quoted forms (`ledger."Order.Items"`)."""
    parts = split_name(text)
    if len(parts) > 2:
        raise BadName(
            f"has {len(parts)} dot-separated parts, not schema.name; "
            'a name that holds a dot must be in double quotes, as in ledger."Order.Items"'
        )
    if len(parts) == 1:
        return QualifiedName(default_schema, parts[0])
    return QualifiedName(parts[0], parts[1])


def split_name(text: str) -> list[str]:
    """Split a dotted name into exact parts; a quoted part may hold dots and `""` quotes."""
    parts: list[str] = []
    position = 0
    while True:
        if text.startswith('"', position):
            part, position = _quoted_part(text, position)
        else:
            end = text.find(".", position)
            end = len(text) if end < 0 else end
            part, position = _unquoted_part(text[position:end]), end
        parts.append(part)
        if position == len(text):
            return parts
        if text[position] != ".":
            raise BadName("has text right after a quoted name (expected '.' or the end)")
        position += 1


def _quoted_part(text: str, start: int) -> tuple[str, int]:
    pieces: list[str] = []
    position = start + 1
    while True:
        end = text.find('"', position)
        if end < 0:
            raise BadName("has an unterminated double quote")
        pieces.append(text[position:end])
        if not text.startswith('""', end):
            break
        pieces.append('"')
        position = end + 2
    part = "".join(pieces)
    if not part:
        raise BadName('has an empty quoted name ("")')
    return part, end + 1


def _unquoted_part(part: str) -> str:
    if not part:
        raise BadName("has an empty name part")
    if '"' in part:
        raise BadName("has a double quote inside an unquoted name; quote the whole part")
    if part != part.strip():
        raise BadName("has white space around an unquoted name; write that part in double quotes")
    return part


def shown(name: QualifiedName) -> str:
    """A table name as a table key would spell it: parts quoted only when they must be."""
    return f"{shown_part(name.schema)}.{shown_part(name.name)}"


def shown_part(part: str) -> str:
    if part and not any(c in part for c in '."') and not any(c.isspace() for c in part):
        return part
    return '"' + part.replace('"', '""') + '"'


def name_problem(name: str) -> str | None:
    """Why PostgreSQL would not keep this name as written, if it would not."""
    if not name:
        return "is empty"
    if "\x00" in name:
        return "holds a NUL character, which PostgreSQL names cannot"
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes, and PostgreSQL would truncate it"
    return None


def check_tables(tables: list[DeclaredTable], report: Report) -> None:
    """The checks that need every file: duplicates, namespaces, references, renames."""
    unique_tables = _check_duplicate_tables(tables, report)
    _check_relation_names(unique_tables, report)
    _check_own_schema(unique_tables, report)
    _check_references(unique_tables, report)
    _check_table_renames(unique_tables, report)
    _check_partitions(unique_tables, report)


def _check_duplicate_tables(
    tables: list[DeclaredTable], report: Report
) -> dict[QualifiedName, DeclaredTable]:
    first: dict[QualifiedName, DeclaredTable] = {}
    for table in tables:
        if table.name in first:
            report.add(
                table.source,
                f"table {shown(table.name)} is declared twice "
                f"(first at {first[table.name].source})",
            )
        else:
            first[table.name] = table
    return first


@dataclass(frozen=True)
class _Relation:
    """A name a present table puts in its schema's namespace of relations."""

    name: str
    what: str
    source: Source
    table: QualifiedName
    constraint: bool = False  # the index of a primary key or unique constraint


def _relations(table: DeclaredTable) -> Iterator[_Relation]:
    if table.state != "present":
        return
    of = f"of table {shown(table.name)}"
    yield _Relation(table.name.name, f"table {shown(table.name)}", table.source, table.name)
    for index in table.present_indexes():
        yield _Relation(index.name, f"index '{index.name}' {of}", index.source, table.name)
    key = table.primary_key
    if key is not None and key.name is not None:
        what = f"primary key '{key.name}' {of}"
        yield _Relation(key.name, what, key.source or table.source, table.name, True)
    for unique in table.unique:
        what = f"unique constraint '{unique.name}' {of}"
        yield _Relation(unique.name, what, unique.source, table.name, True)


def _check_relation_names(tables: dict[QualifiedName, DeclaredTable], report: Report) -> None:
    """Tables, indexes and the indexes of unique and primary keys share a schema's namespace.

    Two constraints of one table with one name are left to the table's own check.
    """
    taken: dict[tuple[str, str], _Relation] = {}
    for relation in (r for t in tables.values() for r in _relations(t)):
        key = (relation.table.schema, relation.name)
        earlier = taken.setdefault(key, relation)
        same_table = earlier.table == relation.table and earlier.constraint and relation.constraint
        if earlier is not relation and not same_table:
            report.add(
                relation.source,
                f"{relation.what}: the name '{relation.name}' is already taken in schema "
                f"{shown_part(relation.table.schema)} by {earlier.what} at {earlier.source}",
            )


def is_system_schema(schema: str) -> bool:
    """PostgreSQL's own schemas: pg_catalog, information_schema and every pg_ name (reserved)."""
    return schema == "information_schema" or schema.startswith("pg_")


def _check_own_schema(tables: dict[QualifiedName, DeclaredTable], report: Report) -> None:
    for table in tables.values():
        if is_system_schema(table.name.schema):
            report.add(
                table.source,
                f"table {shown(table.name)} is in schema {shown_part(table.name.schema)}, "
                "which is PostgreSQL's own (pg_catalog, information_schema and names "
                "beginning with pg_); declare it in another schema",
            )
        elif table.name.schema == HISTORY_SCHEMA:
            report.add(
                table.source,
                f"table {shown(table.name)} is in schema {HISTORY_SCHEMA}, which holds "
                "mmschema's own history; declare it in another schema",
            )


def _check_references(tables: dict[QualifiedName, DeclaredTable], report: Report) -> None:
    """A foreign key to a table of the file must name its present columns, or its primary key,
    as many as it has, of types that can be compared, that a key or unique index covers."""
    for table in tables.values():
        if table.name in report.faulty_tables:
            continue
        for key in table.foreign_keys if table.state == "present" else ():
            target = tables.get(key.references)
            if target is None or target.name in report.faulty_tables:
                continue
            what = f"foreign key '{key.name}' references table {shown(target.name)}"
            if target.state != "present":
                report.add(key.source, f"{what}, which is declared state: absent")
                continue
            present = {c.name: c for c in _columns_of(target, tables)}
            for column in key.referenced_columns:
                if column not in present:
                    report.add(key.source, f"{what}, which does not declare column '{column}'")
            primary = _primary_key_of(target, tables)
            if not key.referenced_columns and primary is None:
                report.add(key.source, f"{what} without columns, but it has no primary_key")
            referenced = key.referenced_columns or (primary.columns if primary else ())
            if not referenced or any(c not in present for c in referenced):
                continue
            if len(referenced) != len(key.columns):
                report.add(
                    key.source,
                    f"foreign key '{key.name}' has {len(key.columns)} columns but references "
                    f"{len(referenced)} of table {shown(target.name)}",
                )
                continue
            if not _covered_by_unique(set(referenced), target, tables):
                report.add(
                    key.source,
                    f"{what} ({', '.join(referenced)}), which no primary key, unique constraint "
                    "or unique index (without WHERE) of that table covers exactly",
                )
            own = {c.name: c for c in _columns_of(table, tables)}
            for mine, theirs in zip(key.columns, referenced, strict=True):
                if mine in own and not can_reference(own[mine].type, present[theirs].type):
                    report.add(
                        key.source,
                        f"foreign key '{key.name}': column '{mine}' ({own[mine].type}) cannot "
                        f"reference column '{theirs}' ({present[theirs].type}) of table "
                        f"{shown(target.name)}: no implicit cast joins these types",
                    )


def _covered_by_unique(
    columns: set[str], table: DeclaredTable, tables: dict[QualifiedName, DeclaredTable]
) -> bool:
    primary = _primary_key_of(table, tables)
    candidates = [set(primary.columns)] if primary else []
    candidates += [set(u.columns) for u in table.unique]
    candidates += [
        {str(k.column) for k in i.keys}
        for i in table.present_indexes()
        if i.unique and i.where is None and all(k.column is not None for k in i.keys)
    ]
    return columns in candidates


def _root(table: DeclaredTable, tables: dict[QualifiedName, DeclaredTable]) -> DeclaredTable:
    """The partitioned table at the top of a partition's tree (itself for other tables)."""
    *_, top = (table, *ancestors(table, tables))
    return top


def _columns_of(
    table: DeclaredTable, tables: dict[QualifiedName, DeclaredTable]
) -> tuple[DeclaredColumn, ...]:
    """A table's present columns: a partition's are those of its tree's top."""
    return _root(table, tables).present_columns()


def _primary_key_of(
    table: DeclaredTable, tables: dict[QualifiedName, DeclaredTable]
) -> DeclaredPrimaryKey | None:
    return table.primary_key or _root(table, tables).primary_key


def _check_table_renames(tables: dict[QualifiedName, DeclaredTable], report: Report) -> None:
    renamed: dict[QualifiedName, DeclaredTable] = {}
    for table in tables.values():
        old = table.renamed_from
        if old is not None and old in renamed:
            report.add(
                table.source,
                f"table {shown(table.name)} is renamed_from {shown(old)}, as table "
                f"{shown(renamed[old].name)} is already (at {renamed[old].source})",
            )
        elif old is not None:
            renamed[old] = table
    for table in tables.values():
        old = table.renamed_from
        if old is not None and old in tables and old != table.name:
            report.add(
                table.source,
                f"table {shown(table.name)} is renamed_from {shown(old)}, which the file "
                "also declares "
                f"(at {tables[old].source})",
            )


def _check_partitions(tables: dict[QualifiedName, DeclaredTable], report: Report) -> None:
    """A partition's parent is a partitioned table of the file, present when it is."""
    for table in tables.values():
        parent_name = table.partition_of
        if parent_name is None or table.state != "present":
            continue
        parent = tables.get(parent_name)
        if report.faulty_tables & {table.name, parent_name}:
            continue
        what = f"table {shown(table.name)} is a partition of {shown(parent_name)}"
        if parent is None:
            report.add(table.source, f"{what}, which the file does not declare")
        elif parent.state != "present":
            report.add(table.source, f"{what}, which is declared state: absent")
        elif parent.partition_by is None:
            report.add(table.source, f"{what}, which has no partition_by")
        else:
            known = {c.name for c in _columns_of(table, tables)}
            for column in table.partition_columns:
                if column.name not in known:
                    report.add(
                        column.source,
                        f"{what}: its columns are its parent's, which has no column "
                        f"'{column.name}' (a partition gives only nullable and default)",
                    )


def first_duplicates(names: Iterable[tuple[str, Source]]) -> Iterator[tuple[str, Source, Source]]:
    """Each name seen before, with where it was seen first and where again."""
    seen: dict[str, Source] = {}
    for name, source in names:
        if name in seen:
            yield name, seen[name], source
        else:
            seen[name] = source
