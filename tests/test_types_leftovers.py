"""Domains and types, the rest: functions taking a declared domain made after it, enums
used only by domains or composite types dumped, grants on domains and types, texts printed
otherwise by another major, through the installed command."""

from __future__ import annotations

import pytest
import yaml

from mmschema.localserver import LocalServer
from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

ROUTINES_ON_DOMAINS = """version: 1
functions:
  short_enough(v text):
    returns: boolean
    language: sql
    body: SELECT length(v) < 10
  norm(a code):
    returns: code
    language: sql
    body: SELECT upper(a)::code
domains:
  code: {type: text, checks: {short: short_enough(VALUE)}}
tables:
  items:
    columns:
      id: {type: bigint}
      label: {type: text, default: "norm('x')"}
"""


@pytest.mark.one_major
def test_a_function_taking_a_declared_domain_is_made_after_it(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", ROUTINES_ON_DOMAINS)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    out = planned.stdout
    assert out.index("create_function public.short_enough") < out.index("create_domain")
    assert out.index("create_domain public.code") < out.index("create_function public.norm")
    assert out.index("create_function public.norm") < out.index("create_table public.items")
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    run_sql(db, "INSERT INTO items (id) VALUES (1)")
    assert query(db, "SELECT label FROM items") == [("X",)]
    assert plan_code(shell, db, scratch_dsn) == 0


@pytest.mark.one_major
def test_an_enum_used_only_by_a_domain_or_composite_type_is_dumped(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "CREATE TYPE mood AS ENUM ('calm', 'busy'); CREATE DOMAIN strict_mood AS mood NOT NULL;"
        " CREATE TYPE level AS ENUM ('low', 'high'); CREATE TYPE reading AS (l level[], n int);"
        " CREATE TABLE notes (id bigint, m strict_mood);",
    )
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    assert document["enums"] == {
        "mood": {"labels": ["calm", "busy"]},
        "level": {"labels": ["low", "high"]},
    }
    assert list(document)[:2] == ["version", "enums"]
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0
    # The dumped file makes the same types on an empty database, and converges there.
    run_sql(
        db,
        "DROP TABLE notes; DROP TYPE reading; DROP DOMAIN strict_mood;"
        " DROP TYPE level; DROP TYPE mood;",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert query(db, "SELECT count(*) FROM pg_type WHERE typname IN ('mood', 'level')") == [(2,)]


RO, RW, OWNER = "mms_type_ro", "mms_type_rw", "mms_type_owner"
ROLES = "".join(
    f"DO $$BEGIN CREATE ROLE {r}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;\n"
    for r in (RO, RW, OWNER)
)
TYPE_GRANTS = f"""version: 1
enums:
  mood:
    labels: [calm, busy]
    grants: []
domains:
  amount:
    type: numeric
    owner: {OWNER}
    grants:
      - {{role: {RO}, privileges: [USAGE]}}
composite_types:
  pair:
    attributes: {{a: integer, b: integer, c: mood}}
    grants:
      - {{role: {RO}, privileges: [usage], with_grant_option: true}}
      - {{role: PUBLIC, privileges: [USAGE]}}
range_types:
  floatrange:
    subtype: float8
    owner: {OWNER}
"""


def type_acl(db: str) -> list[tuple[object, ...]]:
    return query(
        db,
        f"SELECT has_type_privilege('{RO}', 'amount', 'USAGE'),"
        f" has_type_privilege('{RW}', 'amount', 'USAGE'),"
        f" has_type_privilege('{RO}', 'pair', 'USAGE WITH GRANT OPTION'),"
        f" has_type_privilege('{RW}', 'mood', 'USAGE'),"
        " (SELECT array_agg(pg_get_userbyid(typowner)::text ORDER BY typname) FROM pg_type"
        "   WHERE typname IN ('amount', 'floatrange'))",
    )


@pytest.mark.one_major
def test_grants_and_owners_of_domains_and_types_are_applied_dumped_and_pruned(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, ROLES)
    shell.write("schema.yaml", TYPE_GRANTS)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert planned.code == 0, planned.output
    for statement in (
        f'ALTER DOMAIN "public"."amount" OWNER TO "{OWNER}"',
        f'GRANT USAGE ON DOMAIN "public"."amount" TO "{RO}"',
        'REVOKE USAGE ON DOMAIN "public"."amount" FROM PUBLIC',
        f'GRANT USAGE ON TYPE "public"."pair" TO "{RO}" WITH GRANT OPTION',
        'REVOKE USAGE ON TYPE "public"."mood" FROM PUBLIC',
        f'ALTER TYPE "public"."floatrange" OWNER TO "{OWNER}"',
    ):
        assert statement in planned.stdout
    assert 'ON TYPE "public"."pair" FROM PUBLIC' not in planned.stdout
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert type_acl(db) == [(True, False, True, False, [OWNER, OWNER])]

    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    document = yaml.safe_load(dumped.stdout)
    assert document["domains"]["amount"]["owner"] == OWNER
    assert document["domains"]["amount"]["grants"] == [{"role": RO, "privileges": ["USAGE"]}]
    assert {"role": "PUBLIC", "privileges": ["USAGE"]} in document["composite_types"]["pair"][
        "grants"
    ]
    assert document["enums"]["mood"]["grants"] == []
    assert document["range_types"]["floatrange"]["owner"] == OWNER
    shell.write("dumped.yaml", dumped.stdout)
    assert shell.run("plan", "-f", "dumped.yaml", "-d", db, "--dev-database", scratch_dsn).code == 0

    # A grant the file does not declare is unmanaged until --prune; state: absent revokes.
    run_sql(db, f"GRANT USAGE ON DOMAIN amount TO {RW}; GRANT USAGE ON TYPE mood TO {RW}")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert f"grant USAGE on domain public.amount to {RW}" in planned.stdout
    assert f"grant USAGE on type public.mood to {RW}" in planned.stdout
    pruned = shell.run("apply", "--yes", "--prune", "-d", db, "--dev-database", scratch_dsn)
    assert pruned.code == 0, pruned.output
    assert type_acl(db) == [(True, False, True, False, [OWNER, OWNER])]
    shell.write(
        "schema.yaml",
        TYPE_GRANTS.replace(
            "privileges: [USAGE]}\ncomposite", "privileges: [USAGE], state: absent}\ncomposite"
        ),
    )
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "sql")
    assert f'REVOKE USAGE ON DOMAIN "public"."amount" FROM "{RO}"' in planned.stdout
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    assert type_acl(db)[0][0] is False


PRINTED_OTHERWISE = """version: 1
domains:
  amount:
    type: numeric(12,2)
    default: 0
    nullable: false
    checks:
      positive: VALUE >= 0
      small: VALUE < 100.5 AND VALUE <> ALL (ARRAY[1, 2])
  code: {type: varchar(8), collation: C, default: "'x'", checks: {shape: "VALUE IN ('a', 'x')"}}
  stamp: {type: timestamptz, default: now()}
composite_types:
  address:
    attributes: {street: text, zip: code, n: "numeric(5,1)"}
range_types:
  floatrange: {subtype: float8, subtype_diff: float8mi}
tables:
  items:
    columns:
      id: {type: bigint}
      price: {type: amount}
"""


def test_domains_and_types_converge_whichever_major_prints_them(
    shell: Shell, db: str, scratch_dsn: str, pg_server: LocalServer
) -> None:
    """Made through a scratch server of the target's major, then planned through the
    embedded one (PostgreSQL 18), and again from what `dump` writes: no change either way."""
    if pg_server.major == 18:
        pytest.skip("the embedded scratch server is 18: another major shows it")
    shell.write("schema.yaml", PRINTED_OTHERWISE)
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    embedded = shell.run("plan", "--detailed-exitcode", "-d", db, timeout=300)
    assert embedded.code == 0, embedded.output
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0
    embedded = shell.run("plan", "--detailed-exitcode", "-d", db, timeout=300)
    assert embedded.code == 0, embedded.output
    # The dumped file makes the same types on an empty database of this major.
    run_sql(db, "DROP TABLE items; DROP TYPE address, floatrange; DROP DOMAIN amount, code, stamp")
    applied = shell.run("apply", "--yes", "-d", db, timeout=300)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0


TYPES_SPELLED = """version: 1
functions:
  ts_minutes(a timestamp, b timestamp):
    returns: double precision
    language: sql
    volatility: immutable
    body: SELECT extract(epoch FROM a - b) / 60
composite_types:
  reading:
    attributes:
      at: timestamp(3) with time zone
      span: interval hour to minute
      flags: bit(3)
      kind: '"char"'
      tags: varchar(5)[]
      label: {type: text, collation: C}
      money_: numeric
      point_: double precision
range_types:
  stamps: {subtype: timestamp(0), subtype_diff: ts_minutes, multirange: stamp_sets}
  labels: {subtype: text, collation: C, subtype_opclass: text_pattern_ops}
  ints: {subtype: int4, subtype_diff: int4range_subdiff}
"""


def test_composite_and_range_types_converge_whichever_major_prints_them(
    shell: Shell, db: str, scratch_dsn: str, pg_server: LocalServer
) -> None:
    """Types spelled in the file otherwise than any major prints them, made through a
    scratch server of the target's major, then planned through the embedded one: no change."""
    if pg_server.major == 18:
        pytest.skip("the embedded scratch server is 18: another major shows it")
    shell.write("schema.yaml", TYPES_SPELLED)
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert plan_code(shell, db, scratch_dsn) == 0
    embedded = shell.run("plan", "-d", db, timeout=300)
    assert embedded.code == 0 and "No changes" in embedded.output, embedded.output
