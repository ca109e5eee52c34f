"""dump names each constraint option schema.yaml cannot declare, on stderr: nothing lost in
silence."""

from __future__ import annotations

from mmschema.localserver import LocalServer
from tests.conftest import run_sql
from tests.outside import Shell

LIVE = """
CREATE TABLE parent (id integer, k integer, CONSTRAINT parent_pkey PRIMARY KEY (id)
    DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE pair (a integer, b integer, c integer,
    CONSTRAINT pair_a_b_key UNIQUE (a, b) INCLUDE (c) WITH (fillfactor = 70));
CREATE TABLE child (id integer, p integer, q integer,
    CONSTRAINT child_p_fkey FOREIGN KEY (p, q) REFERENCES pair (a, b) MATCH FULL);
"""


def test_dump_warns_of_what_the_file_cannot_say(
    db: str, scratch_dsn: str, shell: Shell, pg_server: LocalServer
) -> None:
    run_sql(db, LIVE)
    if pg_server.major >= 15:
        run_sql(
            db,
            "CREATE TABLE tagged (id integer, p integer, t integer, CONSTRAINT tagged_p_fkey "
            "FOREIGN KEY (p, t) REFERENCES pair (a, b) ON DELETE SET NULL (p))",
        )
    if pg_server.major >= 18:
        run_sql(db, "CREATE TABLE named (id integer CONSTRAINT id_present NOT NULL)")
        run_sql(  # temporal keys (PostgreSQL 18): sqldef's WITHOUT OVERLAPS and PERIOD pairs
            db,
            "CREATE EXTENSION btree_gist;"
            "CREATE TABLE span (id integer, r daterange,"
            " CONSTRAINT span_pkey PRIMARY KEY (id, r WITHOUT OVERLAPS));"
            "CREATE TABLE spanref (id integer, r daterange, CONSTRAINT spanref_fkey"
            " FOREIGN KEY (id, PERIOD r) REFERENCES span (id, PERIOD r))",
        )
    outcome = shell.run("dump", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 0, outcome.output
    warnings = [line for line in outcome.stderr.splitlines() if line.startswith("warning:")]
    expected = [
        "public.child.child_p_fkey: MATCH FULL",
        *(["public.named.id_present: a NOT NULL constraint's own name"] * (pg_server.major >= 18)),
        "public.pair.pair_a_b_key: INCLUDE columns",
        "public.pair.pair_a_b_key: WITH (storage parameters) on its index",
        "public.parent.parent_pkey: DEFERRABLE primary key",
        *(["public.span.span_pkey: WITHOUT OVERLAPS"] * (pg_server.major >= 18)),
        *(["public.spanref.spanref_fkey: PERIOD"] * (pg_server.major >= 18)),
    ]
    if pg_server.major >= 15:
        expected.append("public.tagged.tagged_p_fkey: ON DELETE SET NULL/DEFAULT (columns)")
    assert len(warnings) == len(expected), outcome.stderr
    for found, wanted in zip(warnings, expected, strict=True):
        assert found.startswith(f"warning: {wanted} cannot be declared"), outcome.stderr
    assert "warning" not in outcome.stdout
