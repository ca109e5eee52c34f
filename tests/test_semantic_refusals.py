"""What apply could not do is refused at validate, or at plan against the target, file:line:col."""

from __future__ import annotations

import re

import pytest

from tests.conftest import query, run_sql
from tests.outside import Shell, taking_turns

pytestmark = pytest.mark.one_major

PARENT = """\
version: 1
tables:
  parent:
    columns:
      id:   {type: bigint, nullable: false}
      code: {type: text}
    primary_key: [id]
"""

FILE_CASES = {
    "fk-non-unique-column": (
        PARENT
        + """\
  child:
    columns: {id: {type: bigint}, code: {type: text}}
    foreign_keys:
      child_code_fk: {columns: [code], references: {table: parent, columns: [code]}}
""",
        r"schema.yaml:11:7: foreign key 'child_code_fk' references table public.parent \(code\), "
        r"which no primary key, unique constraint or unique index",
    ),
    "fk-type-mismatch": (
        PARENT
        + """\
  child:
    columns: {parent_id: {type: text}}
    foreign_keys:
      child_parent_fk: {columns: [parent_id], references: {table: parent}}
""",
        r"schema.yaml:11:7: foreign key 'child_parent_fk': column 'parent_id' \(text\) cannot "
        r"reference column 'id' \(bigint\)",
    ),
    "fk-column-count": (
        PARENT
        + """\
  child:
    columns: {a: {type: bigint}, b: {type: bigint}}
    foreign_keys:
      child_fk: {columns: [a, b], references: {table: parent}}
""",
        r"schema.yaml:11:7: foreign key 'child_fk' has 2 columns but references 1",
    ),
    "replica-identity-missing-index": (
        PARENT + "    replica_identity: {index: no_such_index}\n",
        r"schema.yaml:8:31: replica_identity names index 'no_such_index', which table "
        r"public.parent does not declare",
    ),
    "replica-identity-nullable": (
        PARENT
        + "    indexes: {parent_code: {columns: [code], unique: true}}\n"
        + "    replica_identity: {index: parent_code}\n",
        r"schema.yaml:9:31: replica_identity names index 'parent_code', whose column 'code' "
        r"may be null",
    ),
    "table-in-mmschema-schema": (
        "version: 1\ntables:\n  mmschema.mine:\n    columns: {id: {type: int4}}\n",
        r"schema.yaml:3:3: table mmschema.mine is in schema mmschema, which holds mmschema's own",
    ),
    "table-in-pg-catalog": (
        "version: 1\ntables:\n  pg_catalog.mine:\n    columns: {id: {type: int4}}\n",
        r"schema.yaml:3:3: table pg_catalog.mine is in schema pg_catalog, which is PostgreSQL's",
    ),
    "table-in-pg-toast": (
        "version: 1\ntables:\n  pg_toast.mine:\n    columns: {id: {type: int4}}\n",
        r"schema.yaml:3:3: table pg_toast.mine is in schema pg_toast, which is PostgreSQL's",
    ),
    "two-columns-renamed-from-one": (
        PARENT.replace(
            "      code: {type: text}\n",
            "      code: {type: text, renamed_from: old}\n"
            "      label: {type: text, renamed_from: old}\n",
        ),
        r"schema.yaml:7:\d+: column 'label' is renamed_from 'old', as column 'code' is already",
    ),
    "two-tables-renamed-from-one": (
        PARENT
        + "    renamed_from: old\n  other:\n    columns: {id: {type: int4}}\n"
        + "    renamed_from: old\n",
        r"schema.yaml:\d+:3: table public.other is renamed_from public.old, as table "
        r"public.parent is already",
    ),
}


@pytest.mark.parametrize(("case", "shell"), taking_turns(FILE_CASES), indirect=["shell"])
def test_refused_at_validate(shell: Shell, case: str) -> None:
    text, pattern = FILE_CASES[case]
    shell.write("schema.yaml", text)
    result = shell.run("validate", timeout=30)
    assert result.code == 1, result.output
    assert "Traceback" not in result.output
    assert re.search(pattern, result.stderr), result.stderr


LIVE = "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);"
PLAN_CASES = {
    "missing-table": (
        "references: {table: no_such_table}",
        r"schema.yaml:7:7: foreign key 'child_fk' references table public.no_such_table, "
        r"which the file does not declare and the database does not have",
    ),
    "missing-schema": (
        "references: {table: nowhere.accounts}",
        r"schema.yaml:7:7: foreign key 'child_fk' references table nowhere.accounts, but schema "
        r"nowhere is neither in the file nor in the database",
    ),
    "non-unique-live-column": (
        "references: {table: accounts, columns: [email]}",
        r"schema.yaml:7:7: foreign key 'child_fk' references table public.accounts \(email\), "
        r"which no primary key or unique index",
    ),
    "type-mismatch-with-live": (
        "references: {table: accounts}",
        r"schema.yaml:7:7: foreign key 'child_fk': column 'account' \(text\) cannot reference "
        r"column 'id' \(bigint\) of table public.accounts",
    ),
}


@pytest.mark.parametrize("case", PLAN_CASES)
def test_refused_at_plan_against_the_target(
    shell: Shell, db: str, scratch_dsn: str, case: str
) -> None:
    run_sql(db, LIVE)
    references, pattern = PLAN_CASES[case]
    column = (
        "account: {type: bigint}"
        if case != "type-mismatch-with-live"
        else ("account: {type: text}")
    )
    if case == "non-unique-live-column":
        column = "account: {type: text}"
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  child:\n"
        f"    columns: {{{column}}}\n"
        "    foreign_keys:\n"
        "      # the key\n"
        f"      child_fk: {{columns: [account], {references}}}\n",
    )
    for command in (["plan"], ["apply", "--yes"]):
        result = shell.run(*command, "-d", db, "--dev-database", scratch_dsn)
        assert result.code == 1, result.output
        assert "Traceback" not in result.output
        assert re.search(pattern, result.stderr), result.stderr
    assert query(db, "SELECT to_regclass('child'), to_regnamespace('mmschema')") == [(None, None)]
