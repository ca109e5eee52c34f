"""Table inheritance (INHERITS) cannot be declared: `inherits:` is refused at its place in the
file, dump says what it leaves out, and a plan never changes a table that inherits or is
inherited (ALTER TABLE recurses, so such a plan would never converge)."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

LIVE = """
CREATE TABLE events (id bigint, at timestamptz);
CREATE TABLE clicks (target text) INHERITS (events);
CREATE TABLE standalone (id bigint);
"""
COLUMNS = "SELECT attname FROM pg_attribute WHERE attrelid = 'clicks'::regclass AND attnum > 0"


@pytest.mark.one_major
def test_inherits_in_the_file_is_refused_where_it_is_written(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  clicks:\n    inherits: [events]\n"
        "    columns:\n      target: {type: text}\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "Traceback" not in outcome.output
    assert (
        "schema.yaml:4:5: table 'clicks': table inheritance (inherits) is not supported"
        in outcome.output
    )


@pytest.mark.one_major
def test_a_live_inheritance_is_dumped_with_a_warning_and_never_changed(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, LIVE)
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    assert (
        "warning: public.clicks: INHERITS (public.events) cannot be declared in schema.yaml"
        in dumped.stderr
    )
    document = yaml.safe_load(dumped.stdout)
    assert list(document["tables"]["clicks"]["columns"]) == ["id", "at", "target"]
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0  # as it is: nothing to change

    # A new column on the parent would reach the child, undeclared there: refused.
    tables = document["tables"]
    tables["events"]["columns"]["kind"] = {"type": "text"}
    tables["standalone"]["columns"]["note"] = {"type": "text"}
    shell.write("schema.yaml", yaml.safe_dump(document, sort_keys=False))
    for command in (["plan"], ["apply", "--yes"]):
        outcome = shell.run(*command, "-d", db, "--dev-database", scratch_dsn)
        assert outcome.code == 1, outcome.output
        assert "Traceback" not in outcome.output
        assert (
            "schema.yaml:11:3: table public.events is inherited by public.clicks (table "
            "inheritance): mmschema does not change such a table" in outcome.stderr
        ), outcome.output
    assert query(db, "SELECT count(*) FROM pg_attribute WHERE attname IN ('kind', 'note')") == [
        (0,)
    ]

    # Nor prune the child's inherited columns, which DROP COLUMN cannot drop.
    del tables["events"]["columns"]["kind"]
    del tables["clicks"]["columns"]["at"]
    shell.write("schema.yaml", yaml.safe_dump(document, sort_keys=False))
    outcome = shell.run("plan", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 1, outcome.output
    assert "table public.clicks inherits from public.events" in outcome.stderr
    assert [r[0] for r in query(db, COLUMNS)] == ["id", "at", "target"]
