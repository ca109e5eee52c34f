"""Catalog statements shipped as .sql files beside the code that runs them, and their rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg.rows import class_row

R = TypeVar("R")

# `false /* 15: expression */` in a catalog statement: the expression from PostgreSQL 15 on
# (a column older servers do not have), `false` before.
SINCE_MAJOR = re.compile(r"false /\* (\d+): ([^*]+) \*/")


@cache
def packaged_sql(package: str, name: str) -> LiteralString:
    """The text of <package>/sql/<name>.sql (shipped with mmschema, never user input)."""
    text: LiteralString = resources.files(package).joinpath("sql", f"{name}.sql").read_text()
    return text


@cache
def packaged_sql_for(package: str, name: str, server_version: int) -> LiteralString:
    """packaged_sql(package, name) for this server: each version-marked expression in or out."""

    def for_server(match: re.Match[str]) -> str:
        return match[2].strip() if server_version >= int(match[1]) * 10000 else "false"

    text: LiteralString = SINCE_MAJOR.sub(for_server, packaged_sql(package, name))
    return text


# The packages whose sql/ folder holds catalog statements.
SQL_PACKAGES = ("mmschema.introspect", "mmschema.kinds", "mmschema.kinds.tables")


def preload_sql() -> None:
    """Read every packaged statement now: processes forked after this (an inventory's
    workers) find them in the cache instead of each reading them again."""
    for package in SQL_PACKAGES:
        for entry in resources.files(package).joinpath("sql").iterdir():
            if entry.name.endswith(".sql"):
                packaged_sql(package, entry.name.removesuffix(".sql"))


def fetch_rows(
    conn: psycopg.Connection[Any], query: LiteralString, row: type[R], params: dict[str, Any]
) -> list[R]:
    """The statement's rows, each as a `row` (a dataclass named like its columns)."""
    with conn.cursor(row_factory=class_row(row)) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def kind_sql(name: str) -> LiteralString:
    """The text of mmschema/kinds/sql/<name>.sql, a kind module's catalog statement."""
    return packaged_sql("mmschema.kinds", name)


def table_sql(name: str) -> LiteralString:
    """The text of mmschema/kinds/tables/sql/<name>.sql, a table family's catalog statement."""
    return packaged_sql("mmschema.kinds.tables", name)


@contextmanager
def catalog_read(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """A transaction (read only, repeatable read, when the connection was idle: the
    target's) with search_path pg_catalog, rolled back at the end: SET LOCAL ends with it."""
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.transaction(force_rollback=True):
        if idle:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute("SET LOCAL search_path = pg_catalog")
        yield
