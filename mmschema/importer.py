"""`mmschema import`: run SQL scripts on the scratch server, write the schema.yaml they leave.

An UPDATE of columns the scripts add becomes those columns' backfill; any other statement
whose effect the file cannot hold (rows, code, objects it does not declare) is listed and
makes the import fail unless the caller accepts leaving them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmschema.connect import connect
from mmschema.dump import (
    catalog_document,
    chosen_tables,
    document_text,
    user_schemas,
    with_type_enums,
)
from mmschema.introspect import read_catalog
from mmschema.kinds.grants import with_privileges
from mmschema.kinds.tables.dump import table_key
from mmschema.migration_scan import Backfill, Scan, Unexpressed, scan_scripts
from mmschema.model import QualifiedName
from mmschema.pipeline.kinds import dump_objects
from mmschema.sources import SourceError, run_scripts, server_dsn, sql_scripts, temporary_database


@dataclass(frozen=True)
class Imported:
    text: str
    backfills: list[Backfill]
    unexpressed: list[Unexpressed]


def import_sources(
    sources: Sequence[str],
    schemas: list[str] | None,
    dev_database: str | None,
    workdir: Path,
    announce: Callable[[str], None],
) -> Imported:
    """The schema.yaml of the tables that `sources` leave in a fresh database, with the
    backfills their UPDATEs become and the statements the file cannot hold.

    Raises SourceError (`path:line: message`) when a script fails, and NotFound when a
    schema named in `schemas` is not there.
    """
    scripts = sql_scripts(sources, workdir)
    scan = scan_scripts(scripts)
    server = server_dsn(dev_database, workdir, announce)
    with temporary_database(server) as dsn:
        try:
            run_scripts(dsn, scripts)
        except SourceError as error:
            raise SourceError(f"{error}{base_hint(scan)}") from None
        with connect(dsn, "mmschema-import") as conn:
            names = chosen_tables(conn, schemas)
            missing = [t for t in scan.without_base if t not in names and not schemas]
            if missing:
                first = scan.without_base[missing[0]]
                raise SourceError(f"{first}: table {missing[0]} is never created{base_hint(scan)}")
            catalog = read_catalog(conn, names)
            document = catalog_document(catalog)
            # Views, functions, triggers, ...: as the scripts left them (drops and renames
            # included), as `dump` writes them.
            dumped = schemas or user_schemas(conn)
            document.update(dump_objects(conn, dumped, []))
            document = with_type_enums(document, catalog)
            # Owners and grants (GRANT, REVOKE, ALTER ... OWNER TO), as `dump` writes them.
            with_privileges(conn, document, dumped)
    lost = add_backfills(document, scan)
    return Imported(document_text(document), scan.backfills, scan.unexpressed + lost)


def base_hint(scan: Scan) -> str:
    """Advice when the scripts alter tables none of them creates: the base comes first."""
    if not scan.without_base:
        return ""
    tables = ", ".join(str(t) for t in list(scan.without_base)[:3])
    return (
        f"; these migrations change tables they do not create ({tables}): pass the base "
        "schema first, e.g. mmschema import schema.sql migrations/"
    )


def add_backfills(document: dict[str, Any], scan: Scan) -> list[Unexpressed]:
    """Write each backfill into its column's entry; those whose column is gone are listed."""
    lost: list[Unexpressed] = []
    tables: dict[str, Any] = document.get("tables", {})
    for backfill in scan.backfills:
        column = column_entry(tables, backfill.table, backfill.column)
        if column is None:
            lost.append(
                Unexpressed(
                    backfill.source,
                    f"UPDATE {backfill.table}",
                    f"column {backfill.column} is not in the result",
                )
            )
            continue
        column["backfill"] = backfill.value
        if backfill.where is not None:
            column["backfill_where"] = backfill.where
    return lost


def column_entry(tables: dict[str, Any], table: QualifiedName, column: str) -> Any:
    entry = tables.get(table_key(table))
    if not isinstance(entry, dict):
        return None
    columns = entry.get("columns")
    return columns.get(column) if isinstance(columns, dict) else None
