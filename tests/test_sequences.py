"""Serial columns' sequences follow the column: widened with it, dropped with its default."""

from __future__ import annotations

from pathlib import Path

from mmschema.localserver import LocalServer
from tests.clirunner import plan_document, run_against
from tests.conftest import query, run_sql
from tests.outside import Shell

SEQUENCES = (
    "SELECT sequencename, data_type::text FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
)


def apply(text: str, db: str, scratch_dsn: str, tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    applied = run_against(
        ["apply", "-f", str(path), "--yes", "--allow", "rewrite,destructive"],
        db,
        scratch_dsn,
        tmp_path,
    )
    assert applied.code == 0, applied.stdout + applied.stderr
    assert plan_document(path, db, scratch_dsn, tmp_path)["changes"] == []


def test_serial_to_bigserial_widens_the_sequence(db: str, scratch_dsn: str, shell: Shell) -> None:
    run_sql(db, "CREATE TABLE t (id serial PRIMARY KEY, note text)")
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns: {id: {type: bigserial}, note: {type: text}}\n"
        "    primary_key: [id]\n",
    )
    outcome = shell.run(
        "apply", "-d", db, "--dev-database", scratch_dsn, "--yes", "--allow", "rewrite"
    )
    assert outcome.code == 0, outcome.output
    assert "ALTER SEQUENCE public.t_id_seq AS bigint" in outcome.output
    assert query(db, SEQUENCES) == [("t_id_seq", "bigint")]
    # The sequence goes past 2^31 now.
    run_sql(db, "SELECT setval('t_id_seq', 3000000000); INSERT INTO t (note) VALUES ('x')")
    assert query(db, "SELECT max(id) FROM t") == [(3000000001,)]


def test_serial_to_int_drops_the_sequence(db: str, scratch_dsn: str, tmp_path: Path) -> None:
    run_sql(db, "CREATE TABLE t (id serial PRIMARY KEY, note text)")
    apply(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: integer, nullable: false}\n"
        "      note: {type: text}\n    primary_key: [id]\n",
        db,
        scratch_dsn,
        tmp_path,
    )
    assert query(db, SEQUENCES) == []


def test_serial_to_identity_takes_the_sequence_name(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """The old sequence goes before the identity's is made: it gets t_id_seq, not t_id_seq1."""
    run_sql(db, "CREATE TABLE t (id serial PRIMARY KEY, note text)")
    apply(
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      id: {type: integer, identity: {generated: by_default}}\n"
        "      note: {type: text}\n    primary_key: [id]\n",
        db,
        scratch_dsn,
        tmp_path,
    )
    assert query(db, SEQUENCES) == [("t_id_seq", "integer")]
    identity = "SELECT pg_get_serial_sequence('t', 'id')"
    assert query(db, identity) == [("public.t_id_seq",)]


def test_a_default_on_a_standalone_sequence_keeps_it(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """A sequence the column does not own is not the column's to drop."""
    run_sql(
        db,
        "CREATE SEQUENCE shared_seq; "
        "CREATE TABLE t (id integer NOT NULL DEFAULT nextval('shared_seq'), note text)",
    )
    apply(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: integer, nullable: false}\n"
        "      note: {type: text}\n",
        db,
        scratch_dsn,
        tmp_path,
    )
    assert query(db, SEQUENCES) == [("shared_seq", "bigint")]


def test_a_renamed_serial_table_made_identity(
    db: str,
    scratch_dsn: str,
    tmp_path: Path,
    pg_server: LocalServer,
) -> None:
    """The sequence reads go to the table's name before the rename; so do the names
    PostgreSQL derived from the table's (<table>_pkey, and on 18 <table>_id_not_null)."""
    run_sql(db, "CREATE TABLE t (id serial PRIMARY KEY, note text)")
    apply(
        "version: 1\ntables:\n  t2:\n    renamed_from: t\n    columns:\n"
        "      id: {type: integer, identity: {generated: by_default}}\n"
        "      note: {type: text}\n    primary_key: [id]\n",
        db,
        scratch_dsn,
        tmp_path,
    )
    assert query(db, SEQUENCES) == [("t2_id_seq", "integer")]
    named = [("t2_id_not_null",)] if pg_server.major >= 18 else []
    assert query(
        db, "SELECT conname FROM pg_constraint WHERE conrelid = 't2'::regclass ORDER BY 1"
    ) == [*named, ("t2_pkey",)]


def test_serial_to_bigint_identity_drops_the_old_sequence(
    db: str, scratch_dsn: str, tmp_path: Path
) -> None:
    """A type change drops the serial's default itself: its sequence goes too."""
    run_sql(db, "CREATE TABLE t (id serial PRIMARY KEY, note text)")
    apply(
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      id: {type: bigint, identity: {generated: always}}\n"
        "      note: {type: text}\n    primary_key: [id]\n",
        db,
        scratch_dsn,
        tmp_path,
    )
    assert query(db, SEQUENCES) == [("t_id_seq", "bigint")]


def test_a_standalone_sequence_default_is_dumped_as_it_is(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    """nextval('t_id_seq') on a sequence the column does not own is no serial: dumped as
    the default it is, it plans nothing on the database it came from."""
    run_sql(
        db,
        "CREATE SEQUENCE t_id_seq; "
        "CREATE TABLE t (id integer NOT NULL DEFAULT nextval('t_id_seq'), note text)",
    )
    target = ("-d", db, "--dev-database", scratch_dsn)
    dumped = shell.run("dump", *target)
    assert dumped.code == 0, dumped.output
    assert "serial" not in dumped.output
    assert "nextval('public.t_id_seq'::regclass)" in dumped.output
    shell.write("schema.yaml", dumped.output)
    planned = shell.run("plan", *target, "--detailed-exitcode")
    assert planned.code == 0, planned.output


def test_integer_to_bigint_keeping_the_serial_default_widens_its_sequence(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(db, "CREATE TABLE t (id serial PRIMARY KEY, note text)")
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      id: {type: bigint, nullable: false, default: \"nextval('t_id_seq'::regclass)\"}\n"
        "      note: {type: text}\n    primary_key: [id]\n",
    )
    outcome = shell.run(
        "apply", "-d", db, "--dev-database", scratch_dsn, "--yes", "--allow", "rewrite"
    )
    assert outcome.code == 0, outcome.output
    assert query(db, SEQUENCES) == [("t_id_seq", "bigint")]
    planned = shell.run("plan", "--detailed-exitcode", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
