"""Two applies at once: one runs, the other waits on the advisory lock, then has nothing to do."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql

# Signals, killed backends, other sessions' locks and writer threads race with the apply
# by design; a run the machine's scheduling upset is tried again (and shown as rerun).
pytestmark = pytest.mark.flaky(reruns=2, reruns_delay=1)


SCHEMA = """\
version: 1
tables:
  big:
    columns:
      id:  {type: integer, nullable: false}
      v:   {type: text}
      w:   {type: integer}
    primary_key: [id]
    indexes:
      idx_big_v: {columns: [v]}
      idx_big_w_v: {columns: [w, v]}
"""


def test_two_applies_at_once_do_not_deadlock(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(
        db,
        "CREATE TABLE big (id integer PRIMARY KEY, v text, w integer);"
        "INSERT INTO big SELECT g, md5(g::text), g % 1000 FROM generate_series(1, 300000) g",
    )
    results: dict[int, Result] = {}

    def one(n: int) -> None:
        cwd = tmp_path / f"run{n}"
        cwd.mkdir()
        path = cwd / "schema.yaml"
        path.write_text(SCHEMA)
        args = ["apply", "-f", str(path), "-d", db, "--dev-database", scratch_dsn, "--yes"]
        results[n] = run_cli([*args, "--lock-wait", "60"], cwd)

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "applies deadlocked"
    for n in (1, 2):
        assert results[n].code == 0, results[n].stdout + results[n].stderr
    outputs = [results[n].stdout for n in (1, 2)]
    assert sum("already matches" in o for o in outputs) >= 1
    valid = query(
        db,
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = 'big'::regclass AND NOT i.indisprimary ORDER BY 1",
    )
    assert valid == [("idx_big_v", True), ("idx_big_w_v", True)]
    assert query(db, "SELECT outcome FROM mmschema.history") == [("succeeded",)]
