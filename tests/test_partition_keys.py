"""A partition's own primary key or unique constraint whose index is attached to its parent's
unique index (the parent has no key): dumped, and made again the same way from the file,
through the installed command."""

from __future__ import annotations

import pytest
import yaml

from mmschema.localserver import LocalServer
from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

PARTITIONED = """
CREATE TABLE items (id int, foo text, bar text) PARTITION BY LIST (foo);
CREATE TABLE items_1 PARTITION OF items (PRIMARY KEY (foo, bar)) FOR VALUES IN ('a');
CREATE TABLE items_2 PARTITION OF items (UNIQUE (foo, bar)) FOR VALUES IN ('b');
CREATE TABLE items_3 PARTITION OF items FOR VALUES IN ('c');
CREATE UNIQUE INDEX items_unique_idx ON items (foo, bar);
"""
PARTS = """
SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'items_unique_idx'::regclass ORDER BY 1
"""
KEYS = """
SELECT conname::text FROM pg_constraint
WHERE contype IN ('p', 'u') AND connamespace = 'public'::regnamespace ORDER BY 1
"""


@pytest.mark.one_major
def test_a_partitions_own_key_under_its_parents_index_is_dumped_and_made_again(
    shell: Shell, db: str, scratch_dsn: str, pg_server: LocalServer
) -> None:
    run_sql(db, PARTITIONED)
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    assert "items_1" in dumped.stdout and "primary_key" in dumped.stdout, dumped.stdout
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0  # the database is what it says

    name = query(db, "SELECT current_database()")[0][0] + "_copy"
    target = pg_server.dsn(name)
    run_sql(pg_server.dsn(), f'CREATE DATABASE "{name}"')
    try:
        applied = shell.run("apply", "--yes", "-d", target, "--dev-database", scratch_dsn)
        assert applied.code == 0, applied.output
        assert query(target, KEYS) == query(db, KEYS)
        assert query(target, PARTS) == query(db, PARTS), applied.stdout
        assert plan_code(shell, target, scratch_dsn) == 0
    finally:
        run_sql(pg_server.dsn(), f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.one_major
def test_prune_keeps_a_partitions_own_key_its_parents_index_needs(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """PostgreSQL refuses to drop it (the parent's index requires its index): reported."""
    run_sql(db, PARTITIONED)
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    del document["tables"]["items_1"]["primary_key"]
    shell.write("schema.yaml", yaml.safe_dump(document, sort_keys=False))
    applied = shell.run(
        "apply", "--yes", "--prune", "--allow", "destructive", "-d", db,
        "--dev-database", scratch_dsn,
    )
    assert applied.code == 0, applied.output
    planned = shell.run("plan", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert "primary key public.items_1.items_1_pkey" in planned.stdout, planned.output
    assert query(db, KEYS)[0] == ("items_1_pkey",)
