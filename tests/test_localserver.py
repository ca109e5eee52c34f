"""Local and embedded PostgreSQL servers start, answer, are reused, and fail clearly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
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
def workdir(pg_tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project directory, made current, whose embedded server is stopped afterwards."""
    path = pg_tmp_dir / "project"
    path.mkdir()
    monkeypatch.chdir(path)
    try:
        yield path
    finally:
        stop_embedded(path)


def test_embedded_server_starts_once_then_is_reused(workdir: Path) -> None:
    lines: list[str] = []
    dsn = embedded_dsn(workdir, lines.append)
    assert len(lines) == 1
    assert lines[0].startswith(
        f"mmschema: no database configured; using the embedded PostgreSQL {EMBEDDED_MAJOR}."
    )
    assert " in .mmschema/ (127.0.0.1:" in lines[0]
    assert lines[0].endswith(", just started)")
    assert (workdir / ".mmschema" / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    assert query(dsn, "SELECT current_setting('server_version_num')::int / 10000") == [(18,)]

    assert embedded_dsn(workdir, lines.append) == dsn
    assert len(lines) == 2
    assert "just started" not in lines[1]

    scratch = embedded.scratch_dsn(workdir, lines.append)
    assert query(scratch, "SELECT current_database()") == [("mmschema_scratch",)]
    assert stop_embedded(workdir)
    assert not stop_embedded(workdir)


def test_embedded_server_comes_back_after_a_stop(workdir: Path) -> None:
    first = embedded_dsn(workdir, lambda _line: None)
    run_sql(first, "CREATE TABLE kept (id int)")
    stop_embedded(workdir)
    lines: list[str] = []
    second = embedded_dsn(workdir, lines.append)
    assert lines[0].endswith(", just started)")
    assert query(second, "SELECT count(*) FROM kept") == [(0,)]


def test_concurrent_commands_start_one_embedded_server(workdir: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from mmschema.embedded import embedded_dsn
        print(embedded_dsn(Path(sys.argv[1]), lambda line: print(line, file=sys.stderr)))
        """
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(workdir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), results
    assert len({out for out, _err in results}) == 1
    started = [err for _out, err in results if err.strip().endswith("just started)")]
    assert len(started) == 1, results


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback is for root")
def test_embedded_server_falls_back_to_tmp_when_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "private"
    project = private / "project"
    project.mkdir(parents=True)
    private.chmod(0o700)
    monkeypatch.chdir(project)
    home = embedded_home(project)
    try:
        lines: list[str] = []
        dsn = embedded_dsn(project, lines.append)
        assert len(lines) == 1
        assert f" in {home.root}/ because user " in lines[0]
        assert "cannot reach .mmschema/" in lines[0]
        assert str(home.root).startswith("/tmp/mmschema-")
        assert not (project / ".mmschema").exists()
        assert query(dsn, "SELECT 1") == [(1,)]
    finally:
        stop_embedded(project)
        shutil.rmtree(home.root, ignore_errors=True)


def test_embedded_server_needs_its_password(workdir: Path) -> None:
    """Other local users cannot connect: the superuser has a password kept in .mmschema/."""
    dsn = embedded_dsn(workdir, lambda _line: None)
    secret = (workdir / ".mmschema" / "password").read_text().strip()
    assert secret and secret in unquote(dsn)
    assert (workdir / ".mmschema" / "password").stat().st_mode & 0o777 == 0o600
    port = dsn.rsplit(":", 1)[1].split("/", 1)[0]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5)
    assert query(dsn, "SELECT 1") == [(1,)]
