"""Finds the database to talk to (flag, env, .env, PG*, embedded); keeps passwords out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mmschema.environment import Environment
from mmschema.exiting import track

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


MIN_SECRET = 4  # shorter passwords would blank out ordinary words; they are not looked for
_PIECES = re.compile(r"[@/?#:&=%\s\x00\ufffd]+")
_KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)")
_QUERY_PASSWORD = re.compile(r"[?&]password=([^&#]*)")
_secrets: set[str] = set()
_remembered: set[str] = set()


NOT_SHOWN = "(connection string not shown: percent-encode '@' and '/' in its password)"


class ConnectionFailed(Exception):
    """A one-line, password-free reason why a database could not be reached."""


SCRATCH_SERVER = "the scratch server"
DEV_DATABASE = "the scratch server (--dev-database)"

# The variables libpq reads for what a connection string leaves out that picks the server,
# the database or the role (PGPASSWORD, PGSSLMODE ... pick nothing a user would miss).
CHOOSING = ("PGSERVICE", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER")


@dataclass(frozen=True)
class Target:
    dsn: str
    origin: str  # where it came from: "--database", "DATABASE_URL", "embedded", ...
    chosen_by: str = ""  # what picked it when not -d alone: "PGHOST, PGDATABASE", ...

    @property
    def label(self) -> str:
        return describe(self.dsn)


def resolve_target(
    flag: str | None, environment: Environment, embedded: Callable[[], str]
) -> Target:
    remember_environment(environment)
    if flag:
        remember(flag)
        dsn, filled = filled_in(flag, environment.env)
        return Target(dsn, "--database", f"-d with {', '.join(filled)}" if filled else "")
    variables = environment.variables()
    for name in ("MMSCHEMA_DATABASE_URL", "DATABASE_URL"):
        if variables.get(name):
            dsn, filled = filled_in(variables[name], environment.env)
            shown = ", ".join([name, *filled]) + place(name, environment=environment)
            return Target(dsn, name, shown)
    used = [var for var in PG_VARIABLES if variables.get(var)]
    if used:
        params = {PG_VARIABLES[var]: variables[var] for var in used}
        named = [var for var in used if var in CHOOSING] or used
        shown = ", ".join(named) + place(*named, environment=environment)
        return Target(make_conninfo(**params), "PG* variables", shown)
    return Target(embedded(), "embedded")


def place(*names: str, environment: Environment) -> str:
    """' (./.env)' when one of the variables came from the .env file, not the environment."""
    return " (./.env)" if any(name not in environment.env for name in names) else ""


def filled_in(dsn: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """The DSN with what libpq takes from PG* variables for what it leaves out written into
    it (so that its label names the server reached), and those variables' names. With a
    service file in play libpq ranks it between the two: the DSN is left as it is."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return dsn, []
    filled = [var for var in CHOOSING if env.get(var) and not params.get(PG_VARIABLES[var])]
    if not filled or params.get("service") or "PGSERVICE" in filled:
        return dsn, filled
    return make_conninfo(dsn, **{PG_VARIABLES[var]: env[var] for var in filled}), filled


def describe(dsn: str) -> str:
    """host:port/dbname, never the password."""
    remember(dsn)
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(unparsable connection string)"
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = str(params.get("port") or "5432")
    dbname = str(params.get("dbname") or params.get("user") or "")
    label = f"{host}:{port}/{dbname}"
    if params.get("service") and not (params.get("host") or params.get("hostaddr")):
        label = f"service {params['service']}" + (f"/{dbname}" if dbname else "")
    if password_spilled(dsn) or redact(label) != label:  # an unencoded '@' or '/' in it
        return NOT_SHOWN
    return label


def password_spilled(dsn: str) -> bool:
    """Whether libpq would read part of the password as the host (an unencoded '@' in it)."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return False
    return any("@" in str(params.get(key) or "") for key in ("host", "hostaddr"))


def passwords_in(dsn: str) -> Iterator[str]:
    """Every way the DSN's password may be spelled in a message, parsed or not.

    libpq may fail to parse the DSN (a bare '%' in the password) and quote the raw token,
    or read an unencoded '@' or '/' in the password as part of the host or port; so the
    raw text is read here too, and the password's pieces between such characters.
    """
    candidates: list[str] = []
    try:
        parsed = conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        parsed = None
    if parsed:
        candidates.append(str(parsed))
    scheme = dsn.find("://")
    if scheme >= 0:
        rest = dsn[scheme + 3 :]
        userinfo = rest[: rest.rfind("@")] if "@" in rest else ""
        if ":" in userinfo:
            candidates.append(userinfo.split(":", 1)[1])
        candidates.extend(m[1] for m in _QUERY_PASSWORD.finditer(dsn))
    else:
        candidates.extend(m[1].strip("'") for m in _KEYWORD_PASSWORD.finditer(dsn))
    for candidate in candidates:
        for spelling in {candidate, unquote(candidate, errors="replace")}:
            yield spelling
            yield from _PIECES.split(spelling)


def remember(dsn: str | None) -> None:
    """Note the DSN's password, so that redact() removes it from everything shown."""
    if dsn and dsn not in _remembered:  # every connect and label notes it: parse it once
        _remembered.add(dsn)
        _secrets.update(s for s in passwords_in(dsn) if len(s) >= MIN_SECRET)


def remember_password(password: str | None) -> None:
    if password and len(password) >= MIN_SECRET:
        _secrets.add(password)


def remember_environment(environment: Environment) -> None:
    """The passwords of the DSN variables (and PGPASSWORD) of the environment and .env."""
    variables = environment.variables()
    for name in ("MMSCHEMA_DATABASE_URL", "DATABASE_URL"):
        remember(variables.get(name))
    remember_password(variables.get("PGPASSWORD"))


def redact(text: str) -> str:
    """Text with every password seen so far (and its pieces) replaced by ***."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def scrub(text: str, dsn: str) -> str:
    """Text with the DSN's password, and any other password seen, removed."""
    remember(dsn)
    text = redact(text)
    return re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", text)


def connect(
    dsn: str, application: str = "mmschema", server: str = "", **kwargs: Any
) -> psycopg.Connection[Any]:
    """A connection with autocommit on, or ConnectionFailed with a clean message that
    names the `server` when it is not the target ("the scratch server (--dev-database)")."""
    remember(dsn)
    if password_spilled(dsn):  # libpq's message would show the password's end as a host name
        raise ConnectionFailed(
            "cannot connect: the connection URL's password holds an unencoded '@':"
            " percent-encode it as %40 (and '/' as %2F)"
        )
    try:
        conn = psycopg.connect(
            dsn, autocommit=True, application_name=application, connect_timeout=10, **kwargs
        )
    except psycopg.Error as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        which = f"{server} " if server else ""
        raise ConnectionFailed(
            f"cannot connect to {which}{describe(dsn)}: {scrub(message, dsn)}"
        ) from None
    # The file's SQL was parsed as PostgreSQL reads UTF-8 by default: a server or database
    # set to standard_conforming_strings = off (or a client encoding whose characters may end
    # in a backslash byte) would end its strings elsewhere.
    conn.execute("SET standard_conforming_strings = on; SET client_encoding = 'UTF8'")
    track(conn)
    return conn


def primary_message(error: psycopg.Error) -> str:
    """The server's one-line message (the first line of psycopg's text when there is none)."""
    return error.diag.message_primary or (str(error).strip().splitlines() or [""])[0]


def server_error(error: psycopg.Error) -> str:
    """The server's message on one line, with its DETAIL (what blocks, which row) when given."""
    primary = primary_message(error)
    detail = " ".join((error.diag.message_detail or "").split())
    return f"{primary} ({detail})" if detail else primary


class RedactingStream:
    """A text stream that writes through, with every password seen so far replaced by ***."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
