"""SQL smuggled through the file's SQL-carrying fields runs nowhere: not on the scratch server,
not on the target. Each field is refused by `validate` with file:line:column, and the
scratch server runs what does pass as a role that is not a superuser."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.outside import Outcome, Shell, taking_turns

pytestmark = pytest.mark.one_major

TARGET_DATA = (
    "CREATE TABLE data (id int PRIMARY KEY); INSERT INTO data SELECT generate_series(1, 5)"
)


@dataclass(frozen=True)
class Hostile:
    """A file with one hostile value (written where HOSTILE stands) and that value."""

    field: str
    template: str
    value: str
    anchor: str = "HOSTILE"  # where the error points: the value, or the mapping holding it

    def text(self) -> str:
        return self.template.replace("HOSTILE", json.dumps(self.value))

    def position(self) -> str:
        """schema.yaml:line:column of the hostile value."""
        for number, line in enumerate(self.template.splitlines(), start=1):
            if self.anchor in line:
                return f"schema.yaml:{number}:{line.index(self.anchor) + 1}:"
        raise AssertionError("no HOSTILE in the template")


def _table(columns: str, extra: str = "") -> str:
    return f"version: 1\ntables:\n  t:\n    columns:\n{columns}{extra}"


def hostile_files(payload: str) -> list[Hostile]:
    """One file per SQL-carrying field, its value closing the element and running `payload`."""
    plain = "      a: {type: int}\n"
    partitioned = (
        "version: 1\ntables:\n  fills:\n    columns: {id: {type: int}, venue: {type: text}}\n"
        "    partition_by: LIST (venue)\n"
    )
    return [
        Hostile("type", _table("      a: {type: HOSTILE}\n"), f"int; {payload}; --"),
        Hostile("type (comment)", _table("      a: {type: HOSTILE}\n"), "int /* swallow"),
        Hostile(
            "default", _table("      a: {type: int, default: HOSTILE}\n"), f"1); {payload}; --"
        ),
        Hostile(
            "default (no comment)",
            _table("      a: {type: int, default: HOSTILE}\n"),
            f"1); {payload}; SELECT (1",
        ),
        Hostile("default (dollar)", _table("      a: {type: text, default: HOSTILE}\n"), "$$x"),
        Hostile(
            "generated",
            _table("      a: {type: int}\n      b: {type: int, generated: HOSTILE}\n"),
            f"a) STORED; {payload}; --",
        ),
        Hostile(
            "check",
            _table(plain, "    checks:\n      c: HOSTILE\n"),
            f"a > 0); {payload}; SELECT (true",
        ),
        Hostile(
            "check expr",
            _table(plain, "    checks:\n      c: {expr: HOSTILE, valid: false}\n"),
            f"a > 0); {payload}; --",
        ),
        Hostile(
            "index expr",
            _table(plain, "    indexes:\n      i: {columns: [{expr: HOSTILE}]}\n"),
            f"a + 1)); {payload}; --",
        ),
        Hostile(
            "index where",
            _table(plain, "    indexes:\n      i: {columns: [a], where: HOSTILE}\n"),
            f"a > 0; {payload}",
        ),
        Hostile(
            "using",
            _table("      a: {type: bigint, using: HOSTILE}\n"),
            f"a::bigint; {payload}; --",
        ),
        Hostile(
            "backfill",
            _table("      a: {type: int, nullable: false, default: 0, backfill: HOSTILE}\n"),
            f"1; {payload}; --",
        ),
        Hostile(
            "backfill_where",
            _table(
                "      a: {type: int, nullable: false, default: 0, backfill: 1, "
                "backfill_where: HOSTILE}\n"
            ),
            f"true; {payload}",
        ),
        Hostile(
            "exclude",
            _table(plain, "    exclude:\n      x: HOSTILE\n"),
            f"USING btree (a WITH =); {payload}",
        ),
        Hostile(
            "partition_by",
            partitioned.replace("LIST (venue)", "HOSTILE"),
            f"LIST (venue); {payload}",
        ),
        Hostile(
            "partition_by (comment)",
            partitioned.replace("LIST (venue)", "HOSTILE"),
            "LIST (venue) -- swallow",
        ),
        Hostile(
            "partition_of.bound",
            partitioned + "  fills_a:\n    partition_of: {table: fills, bound: HOSTILE}\n",
            f"FOR VALUES IN ('a'); {payload}",
        ),
        Hostile(
            "partition_of.bound (COMMIT)",
            partitioned + "  fills_a:\n    partition_of: {table: fills, bound: HOSTILE}\n",
            "FOR VALUES IN ('a'); COMMIT",
        ),
        Hostile(
            "identity",
            _table("      a: {type: int, identity: {generated: always, start: HOSTILE}}\n"),
            f"1) ; {payload}; --",
        ),
        Hostile(
            "assertion",
            _table(plain, "assertions:\n  a: HOSTILE\n"),
            f"SELECT 1 WHERE false; {payload}",
        ),
    ]


@dataclass(frozen=True)
class Sentinels:
    """What the payload would leave behind: a file, a role, a dropped table."""

    marker: Path
    role: str

    @property
    def payload(self) -> str:
        return (
            f"COPY (SELECT 1) TO PROGRAM 'touch {self.marker}'; "
            f"CREATE ROLE {self.role}; DROP TABLE IF EXISTS data"
        )


@pytest.fixture
def sentinels(pg_tmp_dir: Path) -> Sentinels:
    token = secrets.token_hex(4)
    return Sentinels(pg_tmp_dir / f"marker-{token}", f"mmschema_pwned_{token}")


def _relations(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
            "c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', "
            "'pg_toast') ORDER BY 1, 2"
        ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]


def _role_exists(dsn: str, role: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            is not None
        )


def _data_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM data").fetchone()
    return int(row[0]) if row else -1


def _assert_refused(outcome: Outcome, position: str) -> None:
    assert outcome.code == 1, outcome.output
    assert position in outcome.output, outcome.output
    assert "Traceback" not in outcome.output


@pytest.mark.parametrize(
    ("index", "shell"),
    taking_turns(range(len(hostile_files(""))), [h.field for h in hostile_files("")]),
    indirect=["shell"],
)
def test_sql_smuggled_through_a_field_is_refused_and_runs_nowhere(
    shell: Shell, db: str, scratch_dsn: str, sentinels: Sentinels, index: int
) -> None:
    hostile = hostile_files(sentinels.payload)[index]
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(TARGET_DATA)
    target_before = _relations(db)
    scratch_before = _relations(scratch_dsn)
    shell.write("schema.yaml", hostile.text())

    _assert_refused(shell.run("validate"), hostile.position())
    _assert_refused(shell.run("plan", "-d", db, "--dev-database", scratch_dsn), hostile.position())
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    _assert_refused(applied, hostile.position())

    assert not sentinels.marker.exists()
    assert not _role_exists(db, sentinels.role)
    assert _relations(db) == target_before
    assert _data_rows(db) == 5
    assert _relations(scratch_dsn) == scratch_before


def test_a_bound_that_passes_the_parser_cannot_write_server_files(
    shell: Shell, db: str, scratch_dsn: str, sentinels: Sentinels
) -> None:
    """Defence in depth: one valid bound whose expression writes a file as a superuser would."""
    bound = f"FOR VALUES IN (lo_export(lo_from_bytea(0, '\\x41'), '{sentinels.marker}'))"
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  parts:\n    columns: {id: {type: int}}\n"
        "    partition_by: LIST (id)\n"
        f"  parts_a:\n    partition_of: {{table: parts, bound: {json.dumps(bound)}}}\n",
    )
    assert shell.run("validate").code == 0
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 1, outcome.output
    assert "schema.yaml:6:" in outcome.output
    assert "permission denied" in outcome.output
    assert "Traceback" not in outcome.output
    assert not sentinels.marker.exists()


SUPERUSER_PROBE = (
    "version: 1\ntables:\n  probe:\n    columns: {flag: {type: int}}\n"
    "    partition_by: LIST (flag)\n"
    '  probe_a:\n    partition_of: {table: probe, bound: "FOR VALUES IN '
    "(1 / (NOT pg_has_role('pg_execute_server_program', 'USAGE'))::int)\"}\n"
)


def test_the_scratch_session_is_not_a_superuser_even_with_a_superuser_dev_database(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """The bound divides by zero where the scratch session may run programs (a superuser)."""
    with psycopg.connect(scratch_dsn) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    assert row and row[0], "the test needs a superuser --dev-database"
    shell.write("schema.yaml", SUPERUSER_PROBE)
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 0, outcome.output
    assert "probe_a" in outcome.output


def test_the_embedded_scratch_session_is_not_a_superuser(shell: Shell, db: str) -> None:
    shell.write("schema.yaml", SUPERUSER_PROBE)
    outcome = shell.run("plan", "-d", db, timeout=300)
    assert outcome.code == 0, outcome.output
    assert "probe_a" in outcome.output


def test_a_commit_in_a_bound_leaves_no_table_on_the_scratch_server(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """Twice, so a table a first run left behind would make the second fail."""
    scratch_before = _relations(scratch_dsn)
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  fills:\n    columns: {venue: {type: text}}\n"
        "    partition_by: LIST (venue)\n"
        "  fills_a:\n    partition_of: {table: fills, bound: \"FOR VALUES IN ('a'); COMMIT\"}\n",
    )
    for _ in range(2):
        _assert_refused(
            shell.run("plan", "-d", db, "--dev-database", scratch_dsn), "schema.yaml:7:"
        )
    assert _relations(scratch_dsn) == scratch_before


def test_assertions_run_read_only_on_the_target(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns: {id: {type: int}}\n"
        "assertions:\n  sneaky: SELECT 1 WHERE lo_create(424242) IS NULL\n",
    )
    outcome = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 1, outcome.output
    assert "assertion failed: sneaky" in outcome.output
    assert "read-only transaction" in outcome.output
    assert "Traceback" not in outcome.output
    with psycopg.connect(db) as conn:
        found = conn.execute("SELECT 1 FROM pg_largeobject_metadata WHERE oid = 424242").fetchone()
    assert found is None


def _import_roles(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'mmschema\\_import\\_%'"
        ).fetchall()
    return [str(row[0]) for row in rows]


@pytest.mark.parametrize("command", ["import", "plan --from"])
def test_sql_scripts_run_unprivileged_on_a_superuser_dev_database(
    shell: Shell, db: str, scratch_dsn: str, sentinels: Sentinels, command: str
) -> None:
    shell.write(
        "migration.sql",
        "CREATE EXTENSION IF NOT EXISTS btree_gist;\nCREATE TABLE t (id int);\n"
        "BEGIN;\nCREATE TABLE u (id int);\nCOMMIT;\n"
        f"{sentinels.payload};\n",
    )
    if command == "import":
        outcome = shell.run("import", "migration.sql", "--dev-database", scratch_dsn)
    else:
        shell.write("schema.yaml", "version: 1\n")
        outcome = shell.run(
            "plan", "--from", "migration.sql", "-d", db, "--dev-database", scratch_dsn
        )
    assert outcome.code == 1, outcome.output
    assert "migration.sql:6: permission denied" in outcome.output
    assert "Traceback" not in outcome.output
    assert not sentinels.marker.exists()
    assert not _role_exists(scratch_dsn, sentinels.role)
    assert _import_roles(scratch_dsn) == []


def test_sql_scripts_run_unprivileged_on_the_embedded_server(
    shell: Shell, sentinels: Sentinels
) -> None:
    shell.write("migration.sql", f"CREATE TABLE t (id int);\n{sentinels.payload};\n")
    outcome = shell.run("import", "migration.sql", timeout=300)
    assert outcome.code == 1, outcome.output
    assert "migration.sql:2: permission denied" in outcome.output
    assert "Traceback" not in outcome.output
    assert not sentinels.marker.exists()


def test_an_import_of_ordinary_migrations_still_works(shell: Shell, scratch_dsn: str) -> None:
    shell.write(
        "migration.sql",
        "CREATE EXTENSION btree_gist;\nCREATE SCHEMA ledger;\n"
        "BEGIN;\nCREATE TABLE ledger.t (id int PRIMARY KEY, during tstzrange,\n"
        "  EXCLUDE USING gist (id WITH =, during WITH &&));\nCOMMIT;\n",
    )
    outcome = shell.run("import", "migration.sql", "--dev-database", scratch_dsn)
    assert outcome.code == 0, outcome.output
    assert "ledger.t" in outcome.stdout
    assert _import_roles(scratch_dsn) == []


def name_and_literal_files(payload: str) -> list[Hostile]:
    """Fields that reach SQL as a quoted name or a string literal, never as SQL text."""
    closing = f"\"'; {payload}; --"
    return [
        Hostile("collation", _table("      a: {type: text, collation: HOSTILE}\n"), closing),
        Hostile(
            "index collation",
            _table(
                "      a: {type: text}\n",
                "    indexes:\n      i: {columns: [{column: a, collation: HOSTILE}]}\n",
            ),
            closing,
        ),
        Hostile(
            "opclass",
            _table(
                "      a: {type: text}\n",
                "    indexes:\n      i: {columns: [{column: a, opclass: HOSTILE}]}\n",
            ),
            closing,
        ),
        Hostile(
            "index with",
            _table(
                plain_column(),
                "    indexes:\n      i: {columns: [a], with: {fillfactor: HOSTILE}}\n",
            ),
            closing,
        ),
        Hostile("extension", "version: 1\nextensions: [HOSTILE]\n", closing),
        Hostile("comment", _table(plain_column(), "    comment: HOSTILE\n"), closing),
        Hostile("enum label", "version: 1\nenums:\n  e: {labels: [HOSTILE]}\n", closing),
    ]


def plain_column() -> str:
    return "      a: {type: int}\n"


NAMES = [h.field for h in name_and_literal_files("")]


@pytest.mark.parametrize(
    ("index", "shell"), taking_turns(range(len(NAMES)), NAMES), indirect=["shell"]
)
def test_names_and_literals_from_the_file_stay_names_and_literals(
    shell: Shell, db: str, scratch_dsn: str, sentinels: Sentinels, index: int
) -> None:
    """Refused by the server at file:line:column, or accepted as the name or text it is."""
    hostile = name_and_literal_files(sentinels.payload)[index]
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(TARGET_DATA)
    scratch_before = _relations(scratch_dsn)
    shell.write("schema.yaml", hostile.text())
    for command in (["plan"], ["apply", "--yes"]):
        outcome = shell.run(*command, "-d", db, "--dev-database", scratch_dsn)
        assert "Traceback" not in outcome.output
        assert outcome.code in (0, 1), outcome.output
        if outcome.code == 1:
            assert "schema.yaml:" in outcome.output, outcome.output
    assert not sentinels.marker.exists()
    assert not _role_exists(db, sentinels.role)
    assert _data_rows(db) == 5
    assert _relations(scratch_dsn) == scratch_before


def test_a_target_without_standard_conforming_strings_reads_the_file_as_the_parser_did(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """With standard_conforming_strings off, a backslash would end the string elsewhere."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(TARGET_DATA)
        name = conn.info.dbname
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET standard_conforming_strings = off").format(
                sql.Identifier(name)
            )
        )
    default = "'\\' || ' ); DROP TABLE data; SELECT ('"
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  data:\n    columns:\n      id: {type: int, nullable: false}\n"
        f"      note: {{type: text, default: {json.dumps(default)}}}\n"
        "    primary_key: [id]\n",
    )
    assert shell.run("validate").code == 0
    outcome = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert "Traceback" not in outcome.output
    assert outcome.code == 0, outcome.output
    assert _data_rows(db) == 5
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT DISTINCT note FROM data").fetchone()
    assert row == ("\\ ); DROP TABLE data; SELECT (",)


def test_a_dev_database_of_a_normal_user_runs_the_file_as_that_user(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    token = secrets.token_hex(4)
    role, database = f"mmschema_dev_{token}", f"mmschema_dev_{token}"
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
    try:
        dev = make_conninfo(scratch_dsn, user=role, dbname=database)
        shell.write("schema.yaml", SUPERUSER_PROBE)
        outcome = shell.run("plan", "-d", db, "--dev-database", dev)
        assert outcome.code == 0, outcome.output
        assert "probe_a" in outcome.output
        assert _relations(dev) == []
    finally:
        with psycopg.connect(scratch_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
