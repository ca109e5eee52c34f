"""drift: in sync, drift, the last apply, --all, prometheus, and a read-only role."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.clirunner import run_against as mm
from tests.clirunner import run_cli
from tests.conftest import query, run_sql
from tests.outside import Shell

SCHEMA = """\
version: 1
tables:
  accounts:
    columns:
      id: {type: bigint, nullable: false}
      email: {type: text}
    primary_key: [id]
    indexes:
      idx_accounts_email: {columns: [email]}
"""


@pytest.fixture
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA)
    return path


def applied(db: str, scratch: str, cwd: Path, schema: Path) -> None:
    result = mm(["apply", "-f", str(schema), "--yes"], db, scratch, cwd)
    assert result.code == 0, result.stdout + result.stderr


@pytest.mark.one_major
def test_drift_in_sync_then_drift_then_error(
    db: str, scratch_dsn: str, tmp_path: Path, schema_file: Path
) -> None:
    applied(db, scratch_dsn, tmp_path, schema_file)
    same = mm(["drift", "-f", str(schema_file)], db, scratch_dsn, tmp_path)
    assert same.code == 0, same.stdout + same.stderr
    assert "Last apply: run 1" in same.stdout
    assert "the file is the one it applied" in same.stdout

    run_sql(db, "DROP INDEX idx_accounts_email")
    drifted = mm(["drift", "-f", str(schema_file)], db, scratch_dsn, tmp_path)
    assert drifted.code == 2
    assert "idx_accounts_email" in drifted.stdout

    broken = run_cli(
        ["drift", "-f", str(schema_file), "-d", "postgresql://nobody:s3cret@127.0.0.1:1/x"],
        tmp_path,
    )
    assert broken.code == 1
    assert "s3cret" not in broken.stdout + broken.stderr


@pytest.mark.one_major
def test_drift_json_compares_with_the_last_apply(
    db: str, scratch_dsn: str, tmp_path: Path, schema_file: Path
) -> None:
    none_yet = mm(["drift", "-f", str(schema_file), "--format", "json"], db, scratch_dsn, tmp_path)
    assert none_yet.code == 2
    assert json.loads(none_yet.stdout)["last_apply"] is None

    applied(db, scratch_dsn, tmp_path, schema_file)
    data = json.loads(
        mm(["drift", "-f", str(schema_file), "--format", "json"], db, scratch_dsn, tmp_path).stdout
    )
    assert data["drift"] is False
    assert data["last_apply"]["run"] == 1
    assert data["last_apply"]["checksum_matches"] is True
    assert data["last_apply"]["finished_at"]

    # The file gains a comment only: the database still matches (exit 0), but the file
    # is no longer the one that was applied.
    schema_file.write_text("# edited\n" + SCHEMA)
    edited = mm(["drift", "-f", str(schema_file), "--format", "json"], db, scratch_dsn, tmp_path)
    assert edited.code == 0, edited.stderr
    assert json.loads(edited.stdout)["last_apply"]["checksum_matches"] is False
    text = mm(["drift", "-f", str(schema_file)], db, scratch_dsn, tmp_path)
    assert "the file changed since then" in text.stdout


@pytest.mark.one_major
def test_drift_all_reports_unmanaged_tables(
    db: str, scratch_dsn: str, tmp_path: Path, schema_file: Path
) -> None:
    applied(db, scratch_dsn, tmp_path, schema_file)
    run_sql(db, "CREATE TABLE stray (id int); CREATE SCHEMA other; CREATE TABLE other.x (id int)")
    # public holds the file's tables: the plan lists its undeclared ones, --all or not
    without = mm(["drift", "-f", str(schema_file)], db, scratch_dsn, tmp_path)
    assert without.code == 2, without.stdout
    assert "unmanaged table public.stray" in without.stdout
    result = mm(
        ["drift", "-f", str(schema_file), "--all", "--format", "json"], db, scratch_dsn, tmp_path
    )
    assert result.code == 2
    data = json.loads(result.stdout)
    # other.x is in a schema the file does not use; mmschema.* never; public.stray once
    assert data["unmanaged"] == ["table public.stray"]
    assert data["unmanaged_tables"] == []
    assert data["drift"] is True
    text = mm(["drift", "-f", str(schema_file), "--all"], db, scratch_dsn, tmp_path)
    assert text.code == 2
    assert text.stdout.count("public.stray") == 1, text.stdout
    assert "other.x" not in text.stdout and "mmschema.history" not in text.stdout


@pytest.mark.one_major
def test_drift_prometheus(db: str, scratch_dsn: str, tmp_path: Path, schema_file: Path) -> None:
    applied(db, scratch_dsn, tmp_path, schema_file)
    label = query(db, "SELECT current_database()")[0][0]
    result = mm(
        ["drift", "-f", str(schema_file), "--format", "prometheus"], db, scratch_dsn, tmp_path
    )
    assert result.code == 0
    lines = result.stdout.splitlines()
    samples = {line.split(" ")[0]: line.split(" ")[1] for line in lines if not line.startswith("#")}
    key = next(k for k in samples if k.startswith("mmschema_drift{"))
    assert f'/{label}"' in key
    target = key[len("mmschema_drift") :]
    assert samples[f"mmschema_drift{target}"] == "0"
    assert samples[f"mmschema_drift_up{target}"] == "1"
    assert samples[f"mmschema_drift_changes{target}"] == "0"
    assert samples[f"mmschema_drift_unmanaged{target}"] == "0"
    assert float(samples[f"mmschema_last_apply_timestamp_seconds{target}"]) > 1.7e9
    assert "# TYPE mmschema_drift gauge" in lines

    run_sql(db, "DROP INDEX idx_accounts_email; CREATE TABLE stray (id int)")
    again = mm(
        ["drift", "-f", str(schema_file), "--all", "--format", "prometheus"],
        db,
        scratch_dsn,
        tmp_path,
    )
    assert again.code == 2
    assert f"mmschema_drift{target} 1" in again.stdout
    assert f"mmschema_drift_changes{target} 1" in again.stdout
    assert f"mmschema_drift_unmanaged{target} 1" in again.stdout


def test_drift_works_with_a_read_only_role(
    db: str, scratch_dsn: str, tmp_path: Path, schema_file: Path
) -> None:
    applied(db, scratch_dsn, tmp_path, schema_file)
    run_sql(db, "INSERT INTO accounts VALUES (1, 'a@example.com')")
    role = f"ro_{secrets.token_hex(4)}"
    password = f"pw{secrets.token_hex(6)}"
    dbname = conninfo_to_dict(db)["dbname"]
    run_sql(
        db,
        f"""CREATE ROLE {role} LOGIN PASSWORD '{password}';
            GRANT CONNECT ON DATABASE "{dbname}" TO {role};
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};""",
    )
    ro_dsn = make_conninfo(db, user=role, password=password)
    assert query(ro_dsn, "SELECT current_user")[0][0] == role

    # mmschema.history exists but the role may not read it: no history, not an error
    same = mm(
        ["drift", "-f", str(schema_file), "--all", "--format", "json"],
        ro_dsn,
        scratch_dsn,
        tmp_path,
    )
    assert same.code == 0, same.stdout + same.stderr
    assert json.loads(same.stdout)["last_apply"] is None
    assert password not in same.stdout + same.stderr

    # a unique index would make plan's preflight SELECT from the table: fine for this role
    schema_file.write_text(SCHEMA.replace("{columns: [email]}", "{columns: [email], unique: true}"))
    drifted = mm(["drift", "-f", str(schema_file)], ro_dsn, scratch_dsn, tmp_path)
    assert drifted.code == 2, drifted.stdout + drifted.stderr
    assert "idx_accounts_email" in drifted.stdout

    # with read access to the history, the last apply is reported
    run_sql(
        db, f"GRANT USAGE ON SCHEMA mmschema TO {role}; GRANT SELECT ON mmschema.history TO {role}"
    )
    schema_file.write_text(SCHEMA)
    known = mm(["drift", "-f", str(schema_file), "--format", "json"], ro_dsn, scratch_dsn, tmp_path)
    assert known.code == 0, known.stderr
    assert json.loads(known.stdout)["last_apply"]["checksum_matches"] is True


@pytest.mark.one_major
def test_drift_prometheus_of_an_unreachable_target_says_it_is_down(
    shell: Shell, db: str, scratch_dsn: str
) -> None:
    shell.write("schema.yaml", "version: 1\ntables:\n  t:\n    columns: {id: {type: integer}}\n")
    params = conninfo_to_dict(db)
    closed = make_conninfo(db, port="1", password="s3cret-pw", connect_timeout="3")
    outcome = shell.run("drift", "--format", "prometheus", "-d", closed)
    assert outcome.code == 1, outcome.output
    assert "Traceback" not in outcome.output
    assert len(outcome.stderr.strip().splitlines()) == 1, outcome.stderr
    assert "# TYPE mmschema_drift_up gauge" in outcome.stdout
    down = [line for line in outcome.stdout.splitlines() if line.startswith("mmschema_drift_up{")]
    assert len(down) == 1 and down[0].endswith(" 0"), outcome.stdout
    assert f'{params["host"]}:1/' in down[0]
    assert "s3cret-pw" not in outcome.output
