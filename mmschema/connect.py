"""Finds the database to talk to (flag, env, .env, PG*, embedded); keeps passwords out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mmschema.environment import Environment

PG_VARIABLES = {
    "PGHOST": "host",
    "PGHOSTADDR": "hostaddr",
    "PGPORT": "port",
    "PGDATABASE": "dbname",
    "PGUSER": "user",
    "PGPASSWORD": "password",
    "PGSERVICE": "service",
    "PGSSLMODE": "sslmode",
    "PGCONNECT_TIMEOUT": "connect_timeout",
    "PGAPPNAME": "application_name",
}


class ConnectionFailed(Exception):
    """A one-line, password-free reason why a database could not be reached."""


@dataclass(frozen=True)
class Target:
    dsn: str
    origin: str  # where it came from: "--database", "DATABASE_URL", "embedded", ...

    @property
    def label(self) -> str:
        return describe(self.dsn)


def resolve_target(
    flag: str | None, environment: Environment, embedded: Callable[[], str]
) -> Target:
    if flag:
        return Target(flag, "--database")
    variables = environment.variables()
    for name in ("MMSCHEMA_DATABASE_URL", "DATABASE_URL"):
        if variables.get(name):
            return Target(variables[name], name)
    params = {key: variables[var] for var, key in PG_VARIABLES.items() if variables.get(var)}
    if params:
        return Target(make_conninfo(**params), "PG* variables")
    return Target(embedded(), "embedded")


def describe(dsn: str) -> str:
    """host:port/dbname, never the password."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(unparsable connection string)"
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = str(params.get("port") or "5432")
    dbname = str(params.get("dbname") or params.get("user") or "")
    return f"{host}:{port}/{dbname}"


def scrub(text: str, dsn: str) -> str:
    """Text with the DSN's password (and any URL userinfo password) removed."""
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", text)


def connect(dsn: str, application: str = "mmschema", **kwargs: Any) -> psycopg.Connection[Any]:
    """A connection with autocommit on, or ConnectionFailed with a clean message."""
    try:
        conn = psycopg.connect(
            dsn, autocommit=True, application_name=application, connect_timeout=10, **kwargs
        )
    except psycopg.Error as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConnectionFailed(
            f"cannot connect to {describe(dsn)}: {scrub(message, dsn)}"
        ) from None
    return conn


def primary_message(error: psycopg.Error) -> str:
    """The server's one-line message (the first line of psycopg's text when there is none)."""
    return error.diag.message_primary or (str(error).strip().splitlines() or [""])[0]


def server_error(error: psycopg.Error) -> str:
    """The server's message on one line, with its DETAIL (what blocks, which row) when given."""
    primary = primary_message(error)
    detail = " ".join((error.diag.message_detail or "").split())
    return f"{primary} ({detail})" if detail else primary
