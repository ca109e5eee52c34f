"""Builds a database state on the scratch server from a SOURCE.

A SOURCE is a `schema.yaml` (or a directory of them), a SQL file, a folder of `.sql`
migrations run in name order, or `git:REV:PATH` (read with `git show REV:PATH`). The
state lives in a temporary database `mmschema_import_<random>` on the scratch server (the
embedded one, or `--dev-database`), which is always dropped afterwards.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from pglast import split
from pglast.parser import ParseError, parse_sql_json
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from mmschema import owner_changes
from mmschema.confined import script_connections
from mmschema.connect import SCRATCH_SERVER, connect, primary_message
from mmschema.desired.load import YAML_SUFFIXES

if TYPE_CHECKING:
    from mmschema.normalize import NormalizeCache, Scratch
    from mmschema.owner_changes import AfterScripts

TEMP_PREFIX = "mmschema_import_"


class SourceError(Exception):
    """A source that cannot be read or run: one line, `path:line: message` where known."""


@dataclass(frozen=True)
class Script:
    """One SQL script to run: where it came from (for messages) and its text."""

    name: str
    text: str


def server_dsn(dev_database: str | None, workdir: Path, announce: Callable[[str], None]) -> str:
    """DSN of the scratch server: `--dev-database`, else the embedded server."""
    if dev_database:
        return dev_database
    from mmschema.embedded import embedded_dsn

    return embedded_dsn()  # only the scratch server: not worth a line


@contextlib.contextmanager
def temporary_database(server: str) -> Iterator[str]:
    """A fresh database `mmschema_import_<random>` on the server of `server`; dropped after."""
    name = TEMP_PREFIX + secrets.token_hex(6)
    identifier = sql.Identifier(name)
    with connect(server, "mmschema-import", SCRATCH_SERVER) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(identifier))
    try:
        yield make_conninfo(server, dbname=name)
    finally:
        with connect(server, "mmschema-import") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))


# --- SQL scripts -------------------------------------------------------------------------


def without_meta_commands(text: str) -> str:
    """The script with psql meta-command lines (`\\echo`, `\\set ...`) blanked, lines kept."""
    return "\n".join("" if line.lstrip().startswith("\\") else line for line in text.split("\n"))


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def statements_of(script: Script) -> list[tuple[int, str]]:
    """(line, statement) for each statement of the script, as psql would send them."""
    text = without_meta_commands(script.text)
    try:
        slices: Sequence[slice] = list(split(text, only_slices=True))
    except ParseError as error:
        message = str(error.args[0]) if error.args else str(error)
        location = error.args[1] if len(error.args) > 1 else 0
        offset = len(text.encode()[: int(location)].decode(errors="ignore"))
        raise SourceError(f"{script.name}:{line_of(text, offset)}: {message}") from None
    return [(line_of(text, s.start or 0), text[s]) for s in slices]


# A statement that names something a later statement creates (a schema file written in no
# particular order) is tried again after the others, outside an explicit transaction only.
FORWARD_REFERENCE = (errors.UndefinedTable, errors.UndefinedObject, errors.InvalidSchemaName)


def run_script(
    conn: psycopg.Connection[Any],
    script: Script,
    extensions: psycopg.Connection[Any] | None = None,
    owners: list[tuple[str, AfterScripts]] | None = None,
) -> None:
    """Run one script statement by statement in autocommit, like `psql -f` with ON_ERROR_STOP.

    A statement that is exactly one CREATE EXTENSION runs on `extensions` when given (the
    session of a user allowed to create untrusted extensions); one that is exactly one
    ALTER ... OWNER TO a role is added to `owners` when given, to be run after the scripts
    by that user (the scripts' own role may not act as the role)."""
    deferred: list[tuple[int, str]] = []
    for line, statement in statements_of(script):
        session = extensions if extensions and _creates_extension(statement) else conn
        try:
            if session is conn and owners is not None:
                _run_or_defer(conn, script, line, statement, owners)
                continue
            session.execute(statement.encode())
        except FORWARD_REFERENCE as error:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                raise SourceError(f"{script.name}:{line}: {primary_message(error)}") from None
            deferred.append((line, statement))
        except psycopg.Error as error:
            raise SourceError(f"{script.name}:{line}: {primary_message(error)}") from None
    while deferred:
        failures: list[tuple[int, str, str]] = []
        for line, statement in deferred:
            try:
                if owners is not None:
                    _run_or_defer(conn, script, line, statement, owners)
                    continue
                conn.execute(statement.encode())
            except psycopg.Error as error:
                failures.append((line, statement, primary_message(error)))
        if len(failures) == len(deferred):
            line, _, message = failures[0]
            raise SourceError(f"{script.name}:{line}: {message}")
        deferred = [(line, statement) for line, statement, _ in failures]


def _run_or_defer(
    conn: psycopg.Connection[Any],
    script: Script,
    line: int,
    statement: str,
    owners: list[tuple[str, AfterScripts]],
) -> None:
    change: AfterScripts | None = owner_changes.defaults_change(statement, line)
    if change is None:
        change = owner_changes.deferred(conn, statement, line)
    if change is None:
        conn.execute(statement.encode())
    else:
        owners.append((script.name, change))


def _creates_extension(statement: str) -> bool:
    try:
        parsed = json.loads(parse_sql_json(statement))
    except ParseError:
        return False
    found = parsed.get("stmts", [])
    return len(found) == 1 and "CreateExtensionStmt" in found[0].get("stmt", {})


def run_scripts(dsn: str, scripts: Sequence[Script]) -> None:
    """Run the scripts in order, as an unprivileged role when `dsn` is a superuser's."""
    with script_connections(dsn, "mmschema-import") as (conn, extensions):
        owners: list[tuple[str, AfterScripts]] | None = [] if conn is not extensions else None
        for script in scripts:
            run_script(conn, script, extensions, owners)
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()  # a script that left a transaction open: psql would too
        for name, change in owners or ():
            try:
                owner_changes.give(extensions, change)
            except psycopg.Error as error:
                raise SourceError(f"{name}:{change.line}: {primary_message(error)}") from None


def display(path: Path, workdir: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(workdir.resolve()))
    return str(path)


def sql_scripts(paths: Sequence[str], workdir: Path) -> list[Script]:
    """The scripts that SQL files and migration folders name, folders' `*.sql` in name order."""
    scripts: list[Script] = []
    for given in paths:
        path = workdir / given
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix == ".sql" and p.is_file())
            if not files:
                raise SourceError(f"{given}: no .sql files in this folder")
        elif path.is_file():
            files = [path]
        else:
            raise SourceError(f"{given}: no such file or directory")
        for file in files:
            try:
                text = file.read_text()
            except (OSError, UnicodeDecodeError) as error:
                raise SourceError(f"{display(file, workdir)}: cannot read ({error})") from None
            scripts.append(Script(display(file, workdir), text))
    return scripts


# --- git:REV:PATH --------------------------------------------------------------------------

GIT_SOURCE = re.compile(r"^git:(?P<rev>[^:]+):(?P<path>.+)$")


def git(args: list[str], workdir: Path) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=workdir, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise SourceError(f"cannot run git: {error}") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise SourceError(f"git {' '.join(args)}: {reason}")
    return done.stdout


def git_files(rev: str, path: str, workdir: Path) -> list[tuple[str, str]]:
    """(path, text) of `REV:PATH`, or of the files directly in it when it is a folder."""
    kind = git(["cat-file", "-t", f"{rev}:{path}"], workdir).strip()
    if kind == "tree":
        names = git(["ls-tree", "--name-only", f"{rev}:{path}"], workdir).split("\n")
        members = [f"{path.rstrip('/')}/{n}" for n in sorted(filter(None, names))]
    else:
        members = [path]
    return [(m, git(["show", f"{rev}:{m}"], workdir)) for m in members]


# --- building a state from a SOURCE ---------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A parsed SOURCE: either YAML files (name, text) or SQL scripts."""

    label: str
    yaml_files: tuple[tuple[str, str], ...] = ()  # read from git
    scripts: tuple[Script, ...] = ()
    yaml_path: Path | None = None  # a local schema.yaml or directory of them


def read_source(text: str, workdir: Path) -> Source:
    found = GIT_SOURCE.match(text)
    if found:
        rev, path = found["rev"], found["path"]
        files = git_files(rev, path, workdir)
        yaml_files = tuple((f"{rev}:{n}", t) for n, t in files if n.endswith(YAML_SUFFIXES))
        scripts = tuple(Script(f"{rev}:{n}", t) for n, t in files if n.endswith(".sql"))
        if yaml_files and scripts:
            raise SourceError(f"{text}: holds both .yaml and .sql files; name one of them")
        if not yaml_files and not scripts:
            raise SourceError(f"{text}: neither a .yaml nor a .sql file")
        return Source(text, yaml_files, scripts)
    path = workdir / text
    if path.is_dir():
        yamls = sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
        sqls = [p for p in path.iterdir() if p.suffix == ".sql"]
        if yamls and not sqls:
            return Source(text, yaml_path=path)
        return Source(text, scripts=tuple(sql_scripts([text], workdir)))
    if path.is_file() and path.suffix in YAML_SUFFIXES:
        return Source(text, yaml_path=path)
    if path.is_file():
        return Source(text, scripts=tuple(sql_scripts([text], workdir)))
    raise SourceError(f"{text}: no such file or directory")


def build_state(source: Source, dsn: str, scratch: Scratch, cache: NormalizeCache) -> None:
    """Create the state `source` describes in the (empty) database `dsn`."""
    if source.scripts:
        run_scripts(dsn, source.scripts)
        return
    apply_yaml(source, dsn, scratch, cache)


def apply_yaml(source: Source, dsn: str, scratch: Scratch, cache: NormalizeCache) -> None:
    """Converge `dsn` to the YAML files by running the apply pipeline in-process."""
    import tempfile

    from mmschema.converge import ConvergeFailed, converge

    with tempfile.TemporaryDirectory(prefix="mmschema-source-") as directory:
        if source.yaml_path is not None:
            file = source.yaml_path
        else:
            file = Path(directory)
            for position, (name, text) in enumerate(source.yaml_files):
                (file / f"{position:03d}-{Path(name).stem}.yaml").write_text(text)
        try:
            converge(file, dsn, scratch, cache)
        except ConvergeFailed as failed:
            raise SourceError(f"{source.label}: cannot build this state: {failed}") from None
