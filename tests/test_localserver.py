"""Local and embedded PostgreSQL servers start, answer, are reused, and fail clearly."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest

from mmschema import embedded
from mmschema.embedded import embedded_dsn, embedded_home, ensure_database, stop_embedded
from mmschema.localserver import (
    EMBEDDED_MAJOR,
    LocalServer,
    LocalServerError,
    bin_dir_for_major,
    embedded_bin_dir,
    read_pid_file,
)
from tests.conftest import query, run_sql, selected_majors


def test_server_answers_with_its_major(pg_server: LocalServer) -> None:
    rows = query(pg_server.dsn(), "SELECT current_setting('server_version_num')::int / 10000")
    assert rows == [(pg_server.major,)]
    assert pg_server.is_running()
    assert query(pg_server.dsn(), "SHOW listen_addresses") == [("127.0.0.1",)]
    assert query(pg_server.dsn(), "SHOW fsync") == [("off",)]


def test_second_start_reuses_the_running_server(pg_server: LocalServer) -> None:
    before = read_pid_file(pg_server.data_dir)
    again = LocalServer(pg_server.bin_dir, pg_server.data_dir, fast=True)
    again.start()
    assert again.port == pg_server.port
    assert read_pid_file(pg_server.data_dir) == before


def test_db_is_a_fresh_copy_of_the_template(db: str) -> None:
    name = query(db, "SELECT current_database()")[0][0]
    assert name.startswith("t_db_is_a_fresh_copy")
    assert query(
        db, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
    ) == [(0,)]


def test_run_sql_runs_a_script_like_psql(db: str) -> None:
    run_sql(
        db,
        """
        CREATE TABLE t (id int PRIMARY KEY, note text DEFAULT ';');
        CREATE INDEX CONCURRENTLY t_note ON t (note);
        DO $$ BEGIN INSERT INTO t (id) VALUES (1); END $$;
        BEGIN; INSERT INTO t VALUES (2, 'x'); COMMIT;
        """,
    )
    assert query(db, "SELECT id, note FROM t ORDER BY id") == [(1, ";"), (2, "x")]
    assert query(db, "SELECT indexname FROM pg_indexes WHERE indexname = %s", ["t_note"]) == [
        ("t_note",)
    ]
    with pytest.raises(psycopg.errors.SyntaxError):
        run_sql(db, "SELECT 1; SELEC 2;")


def test_scratch_dsn_is_another_database_on_the_same_server(
    scratch_dsn: str, pg_server: LocalServer
) -> None:
    assert query(scratch_dsn, "SELECT current_database()") == [("mmschema_scratch",)]
    assert f"port={pg_server.port}" in scratch_dsn
    assert ensure_database(pg_server.dsn(), "mmschema_scratch") == scratch_dsn


def test_selected_majors_parses_the_environment_variable() -> None:
    assert selected_majors(None) == [17]
    assert selected_majors("16") == [16]
    assert selected_majors("14, 18,14") == [14, 18]
    assert selected_majors("all") == [14, 15, 16, 17, 18]
    with pytest.raises(pytest.UsageError):
        selected_majors("13")


def test_missing_binaries_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LocalServerError, match=r"PostgreSQL 16 binaries not found.*make install"):
        bin_dir_for_major(16, tmp_path)
    with pytest.raises(LocalServerError, match="not supported"):
        bin_dir_for_major(9, tmp_path)
    with pytest.raises(LocalServerError, match=r"no PostgreSQL initdb binary in .*/bin"):
        LocalServer(tmp_path / "bin", tmp_path / "data").start()


def test_failed_start_reports_the_server_log(pg_tmp_dir: Path) -> None:
    server = LocalServer(
        embedded_bin_dir(), pg_tmp_dir / "data", fast=True, settings={"shared_buffers": "'lots'"}
    )
    with pytest.raises(LocalServerError) as raised:
        server.start()
    message = str(raised.value)
    assert "\n" not in message
    assert "failed to start" in message
    assert "shared_buffers" in message
    assert str(server.log_file) in message
    assert not server.is_running()


@pytest.fixture
def own_home(pg_tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An mmschema home of this test's own, whose embedded server is stopped afterwards."""
    home = pg_tmp_dir / "mmschema-home"
    monkeypatch.setenv("MMSCHEMA_HOME", str(home))
    try:
        yield home
    finally:
        stop_embedded()


def test_embedded_server_starts_once_then_is_reused(own_home: Path) -> None:
    lines: list[str] = []
    dsn = embedded_dsn(lines.append)
    assert len(lines) == 1
    assert lines[0].startswith(
        f"mmschema: no database configured; using the embedded PostgreSQL {EMBEDDED_MAJOR}."
    )
    assert "(just started; stops after 5 min idle; data in " in lines[0]
    home = embedded_home()
    assert home.root == own_home / "server" / str(EMBEDDED_MAJOR)
    assert (home.data_dir / "PG_VERSION").read_text().strip() == "18"
    assert query(dsn, "SELECT current_setting('server_version_num')::int / 10000") == [(18,)]

    assert embedded_dsn(lines.append) == dsn
    assert len(lines) == 2
    assert "just started" not in lines[1]
    assert embedded_dsn() == dsn  # as the scratch server: nothing said
    assert len(lines) == 2

    scratch = embedded.scratch_dsn()
    assert query(scratch, "SELECT current_database()") == [("mmschema_scratch",)]
    assert stop_embedded()
    assert not stop_embedded()


def test_embedded_server_comes_back_after_a_stop(own_home: Path) -> None:
    first = embedded_dsn()
    run_sql(first, "CREATE TABLE kept (id int)")
    stop_embedded()
    lines: list[str] = []
    second = embedded_dsn(lines.append)
    assert "just started" in lines[0]
    assert query(second, "SELECT count(*) FROM kept") == [(0,)]


@pytest.mark.skipif(os.geteuid() != 0, reason="the outside data directory is for root")
def test_root_keeps_the_data_where_the_service_user_reaches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    monkeypatch.setenv("MMSCHEMA_HOME", str(private / "mmschema"))
    home = embedded_home()
    try:
        dsn = embedded_dsn()
        assert (home.root / "pgdata").is_symlink()
        assert home.data_dir == (home.root / "pgdata").resolve()
        assert not home.data_dir.is_relative_to(private)
        assert home.data_dir.stat().st_uid != 0
        assert (home.root / "password").stat().st_mode & 0o777 == 0o600
        assert query(dsn, "SELECT 1") == [(1,)]
    finally:
        stop_embedded()
        shutil.rmtree(home.data_dir.parent, ignore_errors=True)


def test_embedded_server_needs_its_password(own_home: Path) -> None:
    """Other local users cannot connect: the superuser has a password kept in the home."""
    dsn = embedded_dsn()
    password = embedded_home().root / "password"
    secret = password.read_text().strip()
    assert secret and secret in unquote(dsn)
    assert password.stat().st_mode & 0o777 == 0o600
    port = dsn.rsplit(":", 1)[1].split("/", 1)[0]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5)
    assert query(dsn, "SELECT 1") == [(1,)]
