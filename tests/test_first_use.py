"""What a new user meets first: Ctrl-C while starting, which target and why, typos, counts."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.outside import Shell, taking_turns

ONE_TABLE = "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}}\n"


# Shared libraries that load while the command imports its modules (after Python's own start,
# whose site import is out of the command's reach).
HEAVY = ("psycopg", "_yaml", "pglast")


def loading_heavy_modules(pid: int) -> bool:
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return any(piece in maps for piece in HEAVY)


def interrupt(process: subprocess.Popen[str], after: float) -> tuple[int, str, str]:
    """SIGINT `after` seconds after the first heavy module's library loaded; the exit code
    and output."""
    start = time.monotonic()
    while not loading_heavy_modules(process.pid) and process.poll() is None:
        assert time.monotonic() - start < 60, "no module loaded in a minute"
        time.sleep(0.001)
    time.sleep(after)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


@pytest.mark.parametrize(("after", "shell"), taking_turns([0.0, 0.1, 0.3, 0.6]), indirect=["shell"])
def test_ctrl_c_while_starting_is_one_line(shell: Shell, after: float) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    code, stdout, stderr = interrupt(shell.start("validate"), after)
    if code == 0 and after > 0:
        assert "valid (1 table)" in stderr  # done before the signal came: nothing to see
        return
    assert "Traceback" not in stderr, stderr
    assert (code, stderr) == (130, "mmschema: interrupted\n"), (code, stdout, stderr)


def pg_variables(dsn: str) -> dict[str, str]:
    """The libpq variables that reach the database of `dsn`."""
    params = conninfo_to_dict(dsn)
    variables = {
        "PGHOST": str(params["host"]),
        "PGPORT": str(params["port"]),
        "PGDATABASE": str(params["dbname"]),
        "PGUSER": str(params["user"]),
    }
    if params.get("password"):
        variables["PGPASSWORD"] = str(params["password"])
    return variables


def label(dsn: str) -> str:
    params = conninfo_to_dict(dsn)
    return f"{params['host']}:{params['port']}/{params['dbname']}"


def target_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("mmschema: target ")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.one_major
def test_pg_variables_that_choose_the_target_are_named(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    variables = pg_variables(db)
    planned = shell.run("plan", "--dev-database", scratch_dsn, env=variables)
    assert planned.code == 0, planned.output
    line = target_line(planned.stderr)
    assert label(db) in line and "PGHOST" in line and "PGDATABASE" in line, line
    assert f"Plan for {label(db)}" in planned.stdout, planned.stdout
    password = variables.get("PGPASSWORD")
    assert not password or password not in planned.output


@pytest.mark.one_major
def test_pg_variables_filling_in_what_d_leaves_out_are_named(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """`-d dbname=x` with PGHOST exported reaches PGHOST's server: the line and the plan's
    header say so (not localhost:5432)."""
    shell.write("schema.yaml", ONE_TABLE)
    variables = pg_variables(db)
    dbname = variables.pop("PGDATABASE")
    planned = shell.run(
        "plan", "-d", f"dbname={dbname}", "--dev-database", scratch_dsn, env=variables
    )
    assert planned.code == 0, planned.output
    line = target_line(planned.stderr)
    assert label(db) in line and "-d" in line and "PGHOST" in line and "PGPORT" in line, line
    assert "PGDATABASE" not in line, line
    assert f"Plan for {label(db)}" in planned.stdout, planned.stdout


@pytest.mark.one_major
def test_database_url_of_dot_env_is_named(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    shell.write(".env", f"DATABASE_URL={db}\n")
    planned = shell.run("plan", "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    line = target_line(planned.stderr)
    assert label(db) in line and "DATABASE_URL" in line and ".env" in line, line


@pytest.mark.one_major
def test_a_target_given_whole_by_d_gets_no_line(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    planned = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert planned.code == 0, planned.output
    assert "mmschema: target" not in planned.stderr, planned.stderr


EMPTY_OPTIONS = [
    (["plan", "-d", ""], "-d"),
    (["apply", "--yes", "-d", " "], "-d"),
    (["plan", "--dev-database", ""], "--dev-database"),
    (["validate", "-f", ""], "-f"),
]


@pytest.mark.parametrize(
    ("case", "shell"),
    taking_turns(EMPTY_OPTIONS, ["plan-d", "apply-d-blank", "dev-database", "file"]),
    indirect=["shell"],
)
def test_an_empty_option_is_refused(shell: Shell, case: tuple[list[str], str]) -> None:
    """`-d "$UNSET"` would plan (or apply!) against the embedded database."""
    args, option = case
    shell.write("schema.yaml", ONE_TABLE)
    outcome = shell.run(*args, timeout=60)
    assert outcome.code == 1, outcome.output
    assert outcome.stdout == "", outcome.stdout
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mmschema: {option} is empty"), lines
    assert "embedded PostgreSQL" not in outcome.stderr


@pytest.mark.one_major
def test_a_service_named_by_pgservice_is_named(shell: Shell, db: str, scratch_dsn: str) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    variables = pg_variables(db)
    entries = {"PGHOST": "host", "PGPORT": "port", "PGDATABASE": "dbname", "PGUSER": "user"}
    service = "\n".join(f"{key}={variables[var]}" for var, key in entries.items())
    shell.write("pg_service.conf", f"[first_use]\n{service}\n")
    env = {"PGSERVICE": "first_use", "PGSERVICEFILE": str(shell.path("pg_service.conf"))}
    if "PGPASSWORD" in variables:
        env["PGPASSWORD"] = variables["PGPASSWORD"]
    planned = shell.run("plan", "--dev-database", scratch_dsn, env=env)
    assert planned.code == 0, planned.output
    line = target_line(planned.stderr)
    assert "service first_use" in line and "chosen by PGSERVICE" in line, line


TYPOS = """\
version: 1
tables:
  t:
    columns:
      id: {type: integer, identity: alway}
      j: {type: integer, identity: {generated: by_defualt}}
      k: {type: integer, identity: 5}
      p: {type: integer}
    primary_key: [id]
    replica_identity: ful
    row_level_security: forse
    indexes:
      i: {columns: [p], using: btre}
    foreign_keys:
      f: {columns: [p], references: {table: t, columns: [id]}, on_delete: cascad}
  u:
    columns:
      id: {type: integer}
    state: absnt
settings:
  online_type_change_method: coppy
"""


def test_a_misspelt_choice_is_answered_with_the_choices_and_a_suggestion(shell: Shell) -> None:
    shell.write("schema.yaml", TYPOS)
    outcome = shell.run("validate")
    assert outcome.code == 1, outcome.output
    assert "Traceback" not in outcome.output and "given schemas" not in outcome.output
    lines = outcome.stderr.splitlines()
    assert lines == [
        "schema.yaml:5:37: 'identity' of column 'id' must be always, by_default or a mapping,"
        " not the string 'alway'; did you mean 'always'?",
        "schema.yaml:6:48: 'generated' of 'identity' of column 'j' must be always or"
        " by_default, not the string 'by_defualt'; did you mean 'by_default'?",
        "schema.yaml:7:36: 'identity' of column 'k' must be always, by_default or a mapping,"
        " not the number 5",
        "schema.yaml:10:23: 'replica_identity' of table 't' must be default, full, nothing or a"
        " mapping, not the string 'ful'; did you mean 'full'?",
        "schema.yaml:11:25: 'row_level_security' of table 't' must be true, false, forced or"
        " force_only, not the string 'forse'; did you mean 'forced'?",
        "schema.yaml:13:32: 'using' of index 'i' must be btree, hash, gin, gist, brin or"
        " spgist, not the string 'btre'; did you mean 'btree'?",
        "schema.yaml:15:75: 'on_delete' of foreign key 'f' must be no_action, restrict,"
        " cascade, set_null or set_default, not the string 'cascad'; did you mean 'cascade'?",
        "schema.yaml:19:12: 'state' of table 'u' must be present or absent, not the string"
        " 'absnt'; did you mean 'absent'?",
        "schema.yaml:21:30: 'online_type_change_method' of 'settings' must be copy or shadow,"
        " not the string 'coppy'; did you mean 'copy'?",
    ], outcome.stderr


@pytest.mark.one_major
def test_a_misspelt_hazard_kind_gets_a_suggestion(shell: Shell, db: str) -> None:
    shell.write("schema.yaml", ONE_TABLE)
    outcome = shell.run("plan", "-d", db, "--fail-on", "destructiv")
    assert outcome.code == 1, outcome.output
    (line,) = outcome.stderr.splitlines()
    assert line.startswith("mmschema: unknown hazard kind destructiv (expected: "), line
    assert line.endswith("; did you mean 'destructive'?"), line


GRANTS = """\
version: 1
tables:
  t:
    columns: {id: {type: integer}}
    owner: app_owner
    grants:
      - {role: alice, privileges: [select]}
      - {role: bob, privileges: [select, insert]}
  u:
    columns: {id: {type: integer}}
    grants:
      - {role: public, privileges: [select]}
"""


def test_validate_counts_each_grant_entry(shell: Shell) -> None:
    shell.write("schema.yaml", GRANTS)
    outcome = shell.run("validate")
    assert outcome.code == 0, outcome.output
    assert outcome.stderr == "schema.yaml: valid (2 tables, 3 grants, 1 owner)\n", outcome.stderr


def test_validate_counts_what_is_marked_absent_apart(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        ONE_TABLE + "  gone:\n    state: absent\nenums:\n  old_status: {state: absent}\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 0, outcome.output
    assert outcome.stderr == "schema.yaml: valid (1 table, 2 marked absent)\n", outcome.stderr


INTERLEAVED = """\
version: 1
tables:
  users:
    columns:
      id: {type: bigint, nullable: false}
      email: {type: text, nullable: false}
      age: {type: integer}
    primary_key: [id]
    checks:
      age_positive: "age > 0"
    indexes:
      users_email: {columns: [{expr: lower(email)}], unique: true}
  notes:
    columns:
      id: {type: integer}
"""
STEP = re.compile(r"^ +(\d+)\. (\S+) (\S+)  lock:", re.MULTILINE)
ROW = re.compile(r"^\| (\d+) \| `([^`]+)` \| `([^`]+)` \|", re.MULTILINE)


@pytest.mark.one_major
def test_plan_steps_print_in_their_numbered_order_in_every_format(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", INTERLEAVED)
    plans = {
        fmt: shell.run("plan", "-d", db, "--dev-database", scratch_dsn, "--format", fmt)
        for fmt in ("text", "markdown", "json")
    }
    assert all(p.code == 0 for p in plans.values()), [p.output for p in plans.values()]
    steps = [(int(n), kind, name) for n, kind, name in STEP.findall(plans["text"].stdout)]
    rows = [(int(n), kind, name) for n, kind, name in ROW.findall(plans["markdown"].stdout)]
    changes = json.loads(plans["json"].stdout)["changes"]
    in_json = [(i, c["kind"], c["object"]) for i, c in enumerate(changes, 1)]
    assert len(steps) == 4 and {s[2] for s in steps} > {"public.notes"}, plans["text"].stdout
    assert [s[0] for s in steps] == [1, 2, 3, 4], plans["text"].stdout
    assert steps == rows == in_json, (steps, rows, in_json)


@pytest.mark.one_major
def test_a_scratch_server_that_refuses_is_named_as_the_scratch_server(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    """The test clusters trust every password: a database that is not there fails the
    connection as a wrong password would."""
    shell.write("schema.yaml", INTERLEAVED)
    params = conninfo_to_dict(scratch_dsn)
    wrong = f"postgresql://postgres:Wr0ng-s3cret@{params['host']}:{params['port']}/no_such_db"
    outcome = shell.run("plan", "-d", db, "--dev-database", wrong)
    assert outcome.code == 1, outcome.output
    (line,) = outcome.stderr.splitlines()
    assert line.startswith("mmschema: cannot connect to the scratch server (--dev-database) "), line
    assert "no_such_db" in line and "Wr0ng-s3cret" not in outcome.output, line


def scratch_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if "needed the scratch server" in line]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.one_major
def test_plan_sends_to_fmt_only_what_fmt_rewrites(shell: Shell, db: str, scratch_dsn: str) -> None:
    """users' check is written `age > 0` (PostgreSQL prints `(age > 0)`): fmt rewrites it;
    after that users still needs the scratch server (a new table's check has no printing on
    the target to be compared with), and plan must not send the user to fmt again."""
    shell.write("schema.yaml", INTERLEAVED)
    plan = ["plan", "-d", db, "--dev-database", scratch_dsn]
    before = scratch_line(shell.run(*plan).stderr)
    assert before.startswith("1 of 2 declared tables needed the scratch server"), before
    assert "1 spelled otherwise than PostgreSQL prints them (`mmschema fmt` rewrites" in before
    formatted = shell.run("fmt", "--dev-database", scratch_dsn)
    assert "rewrote 1 value in PostgreSQL's spelling" in formatted.stderr, formatted.output
    checked = shell.run("fmt", "--check", "--dev-database", scratch_dsn)
    assert checked.code == 0 and "already in PostgreSQL's spelling" in checked.stderr
    after = scratch_line(shell.run(*plan).stderr)
    assert after.startswith("1 of 2 declared tables needed the scratch server"), after
    assert "rewrites" not in after and "nothing for `mmschema fmt` to rewrite" in after, after


@pytest.mark.one_major
def test_an_extension_the_scratch_server_lacks_says_which_server_and_what_to_do(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\nextensions: [mms_no_such_extension]\n"
        "tables:\n  t:\n    columns: {id: {type: int4}}\n",  # int4: the scratch server is needed
    )
    outcome = shell.run("plan", "-d", db, "--dev-database", scratch_dsn)
    assert outcome.code == 1, outcome.output
    assert "Traceback" not in outcome.output
    assert "mms_no_such_extension" in outcome.stderr
    assert "on the scratch server, PostgreSQL" in outcome.stderr
    assert "give --dev-database a server that has the extension" in outcome.stderr
