"""A reader that leaves (`mmschema apply --yes | head`) does not stop an apply nor fail it."""

from __future__ import annotations

import pytest

from tests.conftest import query
from tests.outside import Shell, plan_code

SCHEMA = """version: 1
tables:
  orders:
    columns:
      id: {type: bigint, nullable: false}
    primary_key: [id]
  fills:
    columns:
      id: {type: bigint, nullable: false}
"""


@pytest.mark.one_major
def test_apply_finishes_and_records_success_when_its_reader_is_gone(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", SCHEMA)
    for attempt in range(2):  # the second: nothing to do, still a clean exit
        process = shell.start("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before the first line
        process.wait(timeout=120)
        errors = process.stderr.read()
        assert process.returncode == 0, (attempt, errors)
        assert "Traceback" not in errors and "Exception ignored" not in errors, errors
    assert query(db, "SELECT outcome FROM mmschema.history ORDER BY id") == [("succeeded",)]
    assert plan_code(shell, db, scratch_dsn) == 0
