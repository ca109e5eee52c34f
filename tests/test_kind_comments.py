"""Comments on the kinds that use the shared piece (mmschema/kinds/comments.py), through the
installed command: set, dumped, left alone when not given, removed with null."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import query, run_sql
from tests.outside import Shell, plan_code

BEFORE = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);"
FILE = """version: 1
tables:
  orders:
    columns:
      id: {type: bigint, nullable: false}
      total: {type: numeric}
    primary_key: [id]
    row_level_security: true
policies:
  orders.small_ones:
    using: total < 1000
"""


def policy_comment(db: str) -> list[tuple[object, ...]]:
    return query(
        db, "SELECT obj_description(oid, 'pg_policy') FROM pg_policy WHERE polname = 'small_ones'"
    )


@pytest.mark.one_major
def test_a_policy_comment_is_set_dumped_left_alone_and_removed(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", FILE + "    comment: orders under 1000\n")
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert policy_comment(db) == [("orders under 1000",)]
    assert plan_code(shell, db, scratch_dsn) == 0
    dumped = shell.run("dump", "-d", db)
    assert dumped.code == 0, dumped.output
    policy = yaml.safe_load(dumped.stdout)["policies"]["orders.small_ones"]
    assert policy["comment"] == "orders under 1000"
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0

    shell.write("schema.yaml", FILE)  # not given: left as it is
    assert plan_code(shell, db, scratch_dsn) == 0

    shell.write("schema.yaml", FILE + "    comment: null\n")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    [change] = json.loads(planned.stdout)["changes"]
    assert change["kind"] == "set_policy_comment"
    assert change["sql"] == ['COMMENT ON POLICY "small_ones" ON "public"."orders" IS NULL']
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert policy_comment(db) == [(None,)]


@pytest.mark.one_major
def test_a_sequence_comment_is_set_dumped_and_left_alone_when_not_given(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", "version: 1\nsequences:\n  tickets:\n    comment: ticket numbers\n")
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert query(db, "SELECT obj_description('tickets'::regclass, 'pg_class')") == [
        ("ticket numbers",)
    ]
    assert plan_code(shell, db, scratch_dsn) == 0
    dumped = shell.run("dump", "-d", db)
    assert yaml.safe_load(dumped.stdout)["sequences"]["tickets"] == {"comment": "ticket numbers"}
    shell.write("schema.yaml", "version: 1\nsequences:\n  tickets: {}\n")
    assert plan_code(shell, db, scratch_dsn) == 0
    shell.write("schema.yaml", "version: 1\nsequences:\n  tickets: {comment: null}\n")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    [change] = json.loads(planned.stdout)["changes"]
    assert change["kind"] == "set_sequence_comment"
    assert change["sql"] == ['COMMENT ON SEQUENCE "public"."tickets" IS NULL']


@pytest.mark.one_major
def test_a_domain_comment_is_set_dumped_and_removed(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ndomains:\n  price:\n    type: numeric\n    comment: never negative\n",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert query(db, "SELECT obj_description('price'::regtype, 'pg_type')") == [("never negative",)]
    assert plan_code(shell, db, scratch_dsn) == 0
    dumped = shell.run("dump", "-d", db)
    assert yaml.safe_load(dumped.stdout)["domains"]["price"]["comment"] == "never negative"
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0
    shell.write("schema.yaml", "version: 1\ndomains:\n  price: {type: numeric, comment: null}\n")
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", "json")
    [change] = json.loads(planned.stdout)["changes"]
    assert change["sql"] == ['COMMENT ON DOMAIN "public"."price" IS NULL']
    assert change["lock"] == "NONE"


@pytest.mark.one_major
def test_a_composite_type_comment_is_set_dumped_and_converges(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ncomposite_types:\n  pair:\n    attributes: {a: text, b: text}\n"
        "    comment: two texts\n",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert query(db, "SELECT obj_description('pair'::regtype, 'pg_type')") == [("two texts",)]
    assert plan_code(shell, db, scratch_dsn) == 0
    dumped = shell.run("dump", "-d", db)
    assert yaml.safe_load(dumped.stdout)["composite_types"]["pair"]["comment"] == "two texts"
    shell.write("schema.yaml", dumped.stdout)
    assert plan_code(shell, db, scratch_dsn) == 0
