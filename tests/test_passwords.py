"""No part of a password ever shows: every connection-error class, every output format, files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from mmschema.localserver import LocalServer
from tests.clirunner import run_cli
from tests.conftest import query, run_sql
from tests.outside import Shell
from tests.test_faults import require_password

pytestmark = pytest.mark.one_major

SCHEMA = "version: 1\ntables:\n  notes:\n    columns:\n      id: {type: int4}\n"
# Each spelling has pieces (on both sides of '%', '@', '/') that must not show either.
PASSWORDS = {
    "bare-percent": "Secr3t%QxV9pw",
    "percent-zz": "Secr3t%zzQxV9pw",
    "percent-00": "Secr3t%00QxV9pw",
    "at-sign": "Secr3t@QxV9pw",
    "slash": "Secr3t/QxV9pw",
    "plain": "Secr3tQxV9pw",
}
PIECES = ("Secr3t", "QxV9pw", "zzQxV9")
COMMANDS = {
    "plan-text": ["plan"],
    "plan-json": ["plan", "--format", "json"],
    "plan-markdown": ["plan", "--format", "markdown"],
    "plan-sql": ["plan", "--format", "sql"],
    "drift-prometheus": ["drift", "--format", "prometheus"],
    "drift-json": ["drift", "--format", "json"],
    "apply-text": ["apply", "--yes"],
    "apply-json": ["apply", "--yes", "--format", "json"],
    "history": ["history"],
}
FAULTY_ROLE = "mm_faulty_login"


def assert_hidden(text: str) -> None:
    for piece in PIECES:
        assert piece not in text, text


@pytest.fixture(scope="module")
def password_role(pg_server: LocalServer) -> Iterator[str]:
    """A role whose password the (trust-authenticated) test server checks."""
    run_sql(pg_server.dsn(), f"DROP ROLE IF EXISTS {FAULTY_ROLE}")
    run_sql(pg_server.dsn(), f"CREATE ROLE {FAULTY_ROLE} LOGIN PASSWORD 'the-right-one'")
    require_password(pg_server, FAULTY_ROLE)
    yield FAULTY_ROLE


def uri(user: str, password: str, host: str, port: int | str, dbname: str) -> str:
    """A URI with the password as a user might paste it: not percent-encoded."""
    return f"postgresql://{user}:{password}@{host}:{port}/{dbname}?connect_timeout=3"


def keywords(user: str, password: str, host: str, port: int | str, dbname: str) -> str:
    quoted = password.replace("\\", "\\\\").replace("'", "\\'")
    return f"host={host} port={port} dbname={dbname} user={user} password='{quoted}'"


def error_dsns(server: LocalServer, role: str, password: str) -> dict[str, str]:
    """One DSN per connection-error class, the password in URI and in key=value form."""
    port = server.port
    cases: dict[str, str] = {}
    for form, make in (("uri", uri), ("keywords", keywords)):
        cases[f"refused-{form}"] = make("someone", password, "127.0.0.1", 1, "db")
        cases[f"auth-failed-{form}"] = make(role, password, "127.0.0.1", port, "postgres")
        cases[f"unknown-host-{form}"] = make("x", password, "no-such-host.invalid", 5432, "db")
        cases[f"bad-syntax-{form}"] = make("someone", password, "127.0.0.1", "notaport", "db")
        cases[f"no-database-{form}"] = make("postgres", password, "127.0.0.1", port, "no_such_db")
    cases["bad-option"] = keywords("someone", password, "127.0.0.1", 1, "db") + " bogus=1"
    cases["unterminated"] = f"host=127.0.0.1 password='{password}"
    return cases


@pytest.mark.parametrize("spelling", PASSWORDS)
def test_no_error_shows_any_part_of_the_password(
    pg_server: LocalServer, password_role: str, scratch_dsn: str, tmp_path: Path, spelling: str
) -> None:
    (tmp_path / "schema.yaml").write_text(SCHEMA)
    password = PASSWORDS[spelling]
    for case, dsn in error_dsns(pg_server, password_role, password).items():
        for name, command in COMMANDS.items():
            result = run_cli([*command, "-d", dsn, "--dev-database", scratch_dsn], tmp_path)
            text = result.stdout + result.stderr
            assert "Traceback" not in text, (case, name, text)
            assert_hidden(text)
            assert result.code == 1, (case, name, text)
            assert len(result.stderr.strip().splitlines()) == 1, (case, name, result.stderr)
        # the same DSN as the scratch server, and from DATABASE_URL
        for name in ("plan-json", "apply-json"):
            command = COMMANDS[name]
            for result in (
                run_cli([*command, "-d", scratch_dsn, "--dev-database", dsn], tmp_path),
                run_cli(command, tmp_path, env={"DATABASE_URL": dsn}),
            ):
                assert "Traceback" not in result.stdout + result.stderr, (case, name)
                assert_hidden(result.stdout + result.stderr)


def test_a_working_password_is_kept_out_of_outputs_history_and_cache(
    pg_server: LocalServer, db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """The test server trusts, so a DSN with a sentinel password connects: nothing keeps it."""
    password = "Secr3t%QxV9pw"
    dbname = psycopg.conninfo.conninfo_to_dict(db)["dbname"]
    dsn = f"postgresql://postgres:{quote(password, safe='')}@127.0.0.1:{pg_server.port}/{dbname}"
    (tmp_path / "schema.yaml").write_text(SCHEMA)
    run_sql(db, "CREATE TABLE other (id int)")  # unmanaged: shows in drift --all
    for command in [*COMMANDS.values(), ["drift", "--all"], ["history", "--show", "1"]]:
        result = run_cli([*command, "-d", dsn, "--dev-database", scratch_dsn], tmp_path)
        assert "Traceback" not in result.stdout + result.stderr
        assert_hidden(result.stdout + result.stderr)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert_hidden(path.read_bytes().decode("utf-8", "replace"))
    rows = query(db, "SELECT h::text FROM mmschema.history h")
    rows += query(db, "SELECT s::text FROM mmschema.history_statements s")
    assert rows
    assert_hidden(repr(rows))


def test_installed_command_hides_the_password(
    shell: Shell, pg_server: LocalServer, password_role: str
) -> None:
    shell.write("schema.yaml", SCHEMA)
    runs = [
        ("percent-zz", "refused-uri", ["plan", "--format", "json"]),
        ("percent-00", "auth-failed-keywords", ["drift", "--format", "prometheus"]),
        ("at-sign", "no-database-uri", ["plan", "--format", "markdown"]),
    ]
    for spelling, case, command in runs:
        dsn = error_dsns(pg_server, password_role, PASSWORDS[spelling])[case]
        result = shell.run(*command, "-d", dsn, timeout=60)
        assert result.code == 1, (case, result.output)
        assert "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.output
        assert_hidden(result.output)
    dsn = error_dsns(pg_server, password_role, PASSWORDS["bare-percent"])["auth-failed-uri"]
    result = shell.run("apply", "--yes", "--format", "json", env={"DATABASE_URL": dsn})
    assert result.code == 1, result.output
    assert_hidden(result.output)
    # the project directory (cache, embedded server files) holds nothing with the password
    for path in shell.project.rglob("*"):
        if path.is_file():
            assert_hidden(path.read_bytes().decode("utf-8", "replace"))


def test_a_short_piece_after_an_unencoded_at_sign_is_not_shown_as_a_host(
    shell: Shell, pg_server: LocalServer
) -> None:
    """libpq reads `user:s3cr@t@host` as host `t@host`: one answer, no piece of it."""
    shell.write("schema.yaml", SCHEMA)
    dsn = f"postgresql://admin:s3cr@zq@127.0.0.1:{pg_server.port}/postgres?connect_timeout=3"
    for command in (["plan"], ["drift", "--format", "json"], ["apply", "--yes"]):
        result = shell.run(*command, "-d", dsn, timeout=60)
        assert result.code == 1, result.output
        assert "Traceback" not in result.output
        assert "zq" not in result.output and "s3cr" not in result.output, result.output
        assert "percent-encode" in result.output, result.output
