"""`mmschema import`: run SQL scripts on the scratch server, write the schema.yaml they leave."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from mmschema.connect import connect
from mmschema.dump import dump_yaml
from mmschema.sources import run_scripts, server_dsn, sql_scripts, temporary_database


def import_sources(
    sources: Sequence[str],
    schemas: list[str] | None,
    dev_database: str | None,
    workdir: Path,
    announce: Callable[[str], None],
) -> str:
    """The schema.yaml text of the tables that `sources` leave in a fresh database.

    Raises SourceError (`path:line: message`) when a script fails.
    """
    scripts = sql_scripts(sources, workdir)
    server = server_dsn(dev_database, workdir, announce)
    with temporary_database(server) as dsn:
        run_scripts(dsn, scripts)
        with connect(dsn, "mmschema-import") as conn:
            return dump_yaml(conn, schemas)
