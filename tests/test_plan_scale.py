"""Files with more tables than the scratch server's lock table holds at once still plan."""

from __future__ import annotations

import psycopg
import pytest

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
