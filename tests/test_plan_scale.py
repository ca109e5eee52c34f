"""Files with more tables than the scratch server's lock table holds at once still plan."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator

import psycopg
import pytest

from mmschema.embedded import ensure_database
from mmschema.localserver import LocalServer, bin_dir_for_major
from tests.conftest import DEFAULT_MAJORS, ROOT, SCRATCH_DB, make_server_dir
from tests.outside import Shell

TABLES = 1500  # x (table, toast, toast index, key, 3 indexes): past a default lock table
SCHEMAS = 30


def many_tables() -> str:
    lines = ["version: 1", "tables:"]
    for i in range(TABLES):
        name = f"s{i % SCHEMAS}.t_{i}"
        lines += [
            f"  {name}:",
            "    columns:",
            "      id: {type: bigint}",
            "      name: {type: text}",
            "      at: {type: timestamptz, default: now()}",
            "    primary_key: [id]",
            "    indexes:",
            f"      t_{i}_name: {{columns: [name]}}",
            f"      t_{i}_at: {{columns: [at]}}",
            f"      t_{i}_both: {{columns: [name, at]}}",
        ]
    # A partition tree is created in one piece, wherever the chunks are cut.
    lines += [
        "  events:",
        "    columns: {id: {type: bigint}, at: {type: date}}",
        "    partition_by: RANGE (at)",
        "    indexes: {events_at: {columns: [at]}}",
    ]
    for year in range(2000, 2030):
        lines += [
            f"  events_{year}:",
            "    partition_of: {table: events, bound: "
            f"\"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')\"}}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.one_major
@pytest.mark.parametrize("shell", ["user"], indirect=True)
def test_more_tables_than_the_lock_table_holds_plan_and_converge(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    with psycopg.connect(scratch_dsn) as conn:
        row = conn.execute("SHOW max_locks_per_transaction").fetchone()
    assert row is not None and row[0] == "64"  # the test server is configured by default
    shell.write("schema.yaml", many_tables())
    database = ["-d", db, "--dev-database", scratch_dsn]
    planned = shell.run("plan", *database, timeout=300)
    assert planned.code == 0, planned.output[-2000:]
    assert "out of shared memory" not in planned.output
    assert f"s{(TABLES - 1) % SCHEMAS}.t_{TABLES - 1}" in planned.stdout
    assert "public.events_2029" in planned.stdout
    applied = shell.run("apply", "--yes", *database, timeout=600)
    assert applied.code == 0, applied.output[-2000:]
    again = shell.run("plan", "--detailed-exitcode", *database, timeout=300)
    assert again.code == 0, again.output[-2000:]


def test_a_big_file_of_distinct_values_is_no_alias_bomb() -> None:
    """A dumped file of 20,000 tables holds well over a million values, none of them aliased."""
    from mmschema.desired.yamlpos import MAX_VALUES, YamlError, load_yaml

    many = load_yaml("[" + ", ".join(str(i) for i in range(MAX_VALUES + 10)) + "]\n", "big.yaml")
    assert many is not None and len(many.value) == MAX_VALUES + 10  # type: ignore[arg-type]
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefgh":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]\n"
    with pytest.raises(YamlError, match="too many values"):
        load_yaml(bomb, "bomb.yaml")


SMALL_LOCKS = {"max_locks_per_transaction": "10", "max_connections": "10"}
OBJECT_TABLES = 400  # x (table, toast, toast index, key): well past the small lock table


@pytest.fixture(scope="module")
def small_lock_scratch() -> Iterator[str]:
    """A scratch server whose lock table holds a few hundred locks (a default one holds
    thousands): a file of a few hundred tables is past it, as 5,000 are past a default one."""
    home = make_server_dir("pg-small-locks")
    server = LocalServer(
        bin_dir_for_major(int(DEFAULT_MAJORS), ROOT), home / "data", fast=True, settings=SMALL_LOCKS
    )
    try:
        server.start()
        yield ensure_database(server.dsn(), SCRATCH_DB)
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def tables_beside_objects(trigger_on_every_table: bool = False) -> str:
    """Many tables; a view, a trigger with its function, and a policy on a few of them."""
    lines = ["version: 1", "tables:"]
    for i in range(OBJECT_TABLES):
        lines += [
            f"  s{i % 4}.t_{i}:",
            "    columns: {id: {type: bigint, nullable: false}, owner: {type: text}}",
            "    primary_key: [id]",
        ]
        if i == 2:
            lines.append("    row_level_security: true")
    lines += [
        "views:",
        "  s0.owners:",
        "    query: SELECT id, owner FROM s0.t_0 UNION ALL SELECT id, owner FROM s1.t_1",
        "functions:",
        "  s3.touch():",
        "    returns: trigger",
        "    language: plpgsql",
        "    body: BEGIN NEW.owner := lower(NEW.owner); RETURN NEW; END",
        "triggers:",
        "  s3.t_3.t_3_touch:",
        "    timing: before",
        "    events: [insert, update]",
        "    for_each: row",
        "    function: s3.touch",
        *[
            f"  s{i % 4}.t_{i}.t_{i}_touch: {{timing: before, events: [update],"
            " for_each: row, function: s3.touch}"
            for i in range(OBJECT_TABLES)
            if trigger_on_every_table and i != 3
        ],
        "policies:",
        "  s2.t_2.own_rows:",
        "    using: owner = current_user",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.one_major
@pytest.mark.parametrize("shell", ["user"], indirect=True)
def test_objects_beside_more_tables_than_the_lock_table_holds(
    shell: Shell, db: str, small_lock_scratch: str
) -> None:
    """Views, triggers, functions and policies are normalized beside only the tables they
    need (all tables in one transaction ran out of lock slots: "out of shared memory")."""
    shell.write("schema.yaml", tables_beside_objects())
    database = ["-d", db, "--dev-database", small_lock_scratch]
    planned = shell.run("plan", *database, timeout=300)
    assert planned.code == 0, planned.output[-2000:]
    assert "out of shared memory" not in planned.output
    assert f"s{(OBJECT_TABLES - 1) % 4}.t_{OBJECT_TABLES - 1}" in planned.stdout
    for made in ("create_view s0.owners", "create_trigger s3.t_3.t_3_touch", "create_policy"):
        assert made in planned.stdout
    applied = shell.run("apply", "--yes", *database, timeout=600)
    assert applied.code == 0, applied.output[-2000:]
    again = shell.run("plan", "--detailed-exitcode", *database, timeout=300)
    assert again.code == 0, again.output[-2000:]



@pytest.mark.one_major
@pytest.mark.parametrize("shell", ["user"], indirect=True)
def test_objects_naming_more_tables_than_the_lock_table_holds_say_what_to_change(
    shell: Shell, db: str, small_lock_scratch: str
) -> None:
    """A trigger on every table: they cannot all be made at once; one line says what to raise."""
    shell.write("schema.yaml", tables_beside_objects(trigger_on_every_table=True))
    planned = shell.run("plan", "-d", db, "--dev-database", small_lock_scratch, timeout=300)
    assert planned.code == 1, planned.output[-2000:]
    lines = planned.stderr.strip().splitlines()
    assert len(lines) == 1 and "max_locks_per_transaction (now 10)" in lines[0], lines
