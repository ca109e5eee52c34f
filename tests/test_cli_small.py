"""Small things a user meets on the command line: counts, recap, prompts, history, --help."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mmschema.hazards import HAZARD_KINDS
from tests.conftest import query, run_sql
from tests.outside import MMSCHEMA, Shell

WIDE = {"COLUMNS": "200"}  # argparse wraps help to the terminal's width
ONE_TABLE = "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}}\n"


# Copies the typed answer to a pseudo-terminal that the command runs on; exits with its code.
ON_A_TERMINAL = "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))"


def on_terminal(shell: Shell, args: list[str], answer: str) -> tuple[int, str]:
    """`mmschema ARGS` on a pseudo-terminal, as the shell's user, typing `answer`."""
    argv = [str(MMSCHEMA), *args]
    if not shell.user.is_root and os.geteuid() == 0:
        argv = [
            "setpriv",
            f"--reuid={shell.user.uid}",
            f"--regid={shell.user.gid}",
            "--clear-groups",
            "--",
            *argv,
        ]
    done = subprocess.run(
        [sys.executable, "-c", ON_A_TERMINAL, *argv],
        cwd=shell.project,
        env=shell.env(),
        input=answer,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.one_major
def test_one_change_is_singular(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    validated = shell.run("validate")
    assert "valid (1 table)" in validated.output, validated.output
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "Plan: 1 change," in planned.stdout, planned.stdout


@pytest.mark.one_major
def test_the_recap_counts_ok(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write(
        "schema.yaml",
        ONE_TABLE
        + "  u:\n    columns: {id: {type: integer}}\n    indexes: {u_id: {columns: [id]}}\n",
    )
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    assert "RECAP ok=3 changed=3 failed=0 skipped=0" in applied.stdout, applied.stdout


@pytest.mark.one_major
def test_history_of_a_database_never_applied_to(shell: Shell, db: str) -> None:
    outcome = shell.run("history", "-d", db)
    assert outcome.code == 0, outcome.output
    assert "no runs yet" in outcome.stdout
    assert "Traceback" not in outcome.output


@pytest.mark.one_major
def test_a_missing_plan_file_is_said_before_any_server_starts(shell: Shell) -> None:
    outcome = shell.run("apply", "missing.json", "--yes", timeout=30)
    assert outcome.code == 1
    assert outcome.stderr.startswith("mmschema: missing.json: "), outcome.output
    assert len(outcome.output.splitlines()) == 1, outcome.output
    started = list(shell.user.home.rglob("postmaster.pid"))
    started += list(shell.project.rglob("postmaster.pid"))
    assert started == []


@pytest.mark.one_major
@pytest.mark.parametrize("answer", ["y\n", "Y\n", "yess\n", "\n"])
def test_only_yes_confirms(shell: Shell, db: str, scratch_dsn: str, answer: str) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    code, output = on_terminal(shell, ["apply", "-d", db, "--dev-database", scratch_dsn], answer)
    assert "Type 'yes'" in output, output
    assert code == 3, output
    assert "declined" in output
    assert query(db, "SELECT to_regclass('public.t') IS NULL") == [(True,)]


@pytest.mark.one_major
def test_yes_confirms(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    code, output = on_terminal(shell, ["apply", "-d", db, "--dev-database", scratch_dsn], "yes\n")
    assert code == 0, output
    assert query(db, "SELECT to_regclass('public.t') IS NOT NULL") == [(True,)]


@pytest.mark.one_major
def test_index_methods_in_any_case(shell: Shell, db: str, scratch_dsn: str) -> None:
    run_sql(db, "CREATE TABLE t (id integer, tags text[])")
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}, tags: {type: 'text[]'}}\n"
        "    indexes:\n      t_tags: {using: GIN, columns: [tags]}\n"
        "      t_id: {using: Hash, columns: [id]}\n",
    )
    assert shell.run("validate").code == 0
    applied = shell.run("apply", "--yes", "-d", db, "--dev-database", scratch_dsn)
    assert applied.code == 0, applied.output
    methods = query(
        db,
        "SELECT c.relname, am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
        "WHERE c.relname IN ('t_tags', 't_id') ORDER BY 1",
    )
    assert methods == [("t_id", "hash"), ("t_tags", "gin")]
    again = shell.run("plan", "--detailed-exitcode", "-d", db, "--dev-database", scratch_dsn)
    assert again.code == 0, again.output


def test_an_unknown_index_method_is_still_refused(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}}\n"
        "    indexes: {t_id: {using: GINN, columns: [id]}}\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 1
    assert "schema.yaml:5:" in outcome.output and "gin" in outcome.output


def test_validate_counts_every_kind_it_declares(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}}\n"
        "views:\n  v:\n    query: SELECT id FROM t\n"
        "materialized_views:\n  m:\n    query: SELECT id FROM t\n"
        "functions:\n  f():\n    returns: integer\n    body: SELECT 1\n"
        "  g():\n    returns: integer\n    body: SELECT 2\n"
        "enums:\n  mood: {labels: [up, down]}\n"
        "policies:\n  t.mine:\n    using: id > 0\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 0, outcome.output
    expected = "valid (1 table, 1 enum, 2 functions, 1 view, 1 materialized view, 1 policy)"
    assert expected in outcome.output, outcome.output


def test_a_value_cut_at_its_comma_says_to_quote_it(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: numeric(12,2)}\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 1
    assert "Traceback" not in outcome.output
    assert "schema.yaml:5:29: unknown key '2)'" in outcome.output
    assert 'quote a value that holds one, e.g. {type: "numeric(12,2)"}' in outcome.output


def test_help_lists_hazard_kinds_defaults_and_examples(shell: Shell) -> None:
    top = shell.run("--help")
    assert top.code == 0
    assert "examples:" in top.stdout and "exit codes:" in top.stdout
    for command in ("plan", "apply"):
        page = shell.run(command, "--help", env=WIDE).stdout
        assert all(kind in page for kind in HAZARD_KINDS), page
        assert "examples:" in page
        assert "(default: schema.yaml)" in page
    assert "(default: 60.0)" in shell.run("apply", "--help", env=WIDE).stdout
    assert "examples:" in shell.run("dump", "--help").stdout


@pytest.mark.one_major
def test_the_backfill_bar_ends_full_under_backfill_where(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    run_sql(
        db,
        "CREATE TABLE s (id integer PRIMARY KEY, symbol text);"
        "INSERT INTO s SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'BTC' END"
        " FROM generate_series(1, 3000) g;"
        "ANALYZE s;",
    )
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  s:\n    columns:\n      id: {type: integer}\n"
        "      symbol: {type: text}\n"
        "      pairs: {type: jsonb, backfill: jsonb_build_array(symbol),"
        " backfill_where: symbol IS NOT NULL}\n    primary_key: [id]\n",
    )
    code, output = on_terminal(shell, ["apply", "-d", db, "--dev-database", scratch_dsn], "yes\n")
    assert code == 0, output
    assert "2000/2000" in output, output
    assert "/3000" not in output, output
