"""What every inventory worker would do again on its own, done once before they are forked."""

from __future__ import annotations

from psycopg import sql

from mmschema.catalogsql import preload_sql
from mmschema.connect import scrub


def warm_up() -> None:
    """Fill the caches each target's run uses: a forked worker starts with them."""
    preload_sql()
    sql.Literal(["x"]).as_string(None)  # psycopg compiles its array quoting rule on first use
    scrub("", "")  # the password rule of every message shown
