"""Runs folders of before/after schema pairs (other projects' suites) through mmschema.

    .venv/bin/python -m bench.pair_suite PAIRS_DIR [--filter TEXT ...] [--major 17]

PAIRS_DIR holds one folder per pair with `before.sql` and `after.sql` (and, optionally, a
`skip` file saying why the pair is left out), and may hold `roles.txt`: roles the pairs
use, one per line, created once on the server. Each pair runs on one throwaway server:
`before.sql` into database t and `after.sql` into database want; `mmschema dump
--all-grants` of want (every non-system schema; every object's whole privileges, so that a
grant "after" does not make is revoked) is the desired file; `mmschema apply --prune` with
every hazard allowed runs on t; `mmschema plan --detailed-exitcode --prune` must then be
empty. A sqldef pair whose script fails as psql runs it is loaded again statement by
statement in rounds (sqldef's "desired" is a set its tool orders, not a script; the result
then says `reordered`); its rename annotations (`-- @renamed from=old`) on tables, columns
and enum labels become the dumped file's `renamed_from` / `renamed_labels` (the result
says `renames`). The outcome is the first of: bad-before, bad-after, dump-failed,
apply-failed, not-converged, differs (the dumps of t and want differ: what mmschema
declares), pgdump-differs (their `pg_dump --schema-only` differs: objects mmschema does
not manage), ok. Results go to `<PAIRS_DIR>/results.json`; the summary counts outcomes.
A tool, not a test: the pairs are other projects' text and are not kept in this repository.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pglast
import psycopg
from psycopg import sql

from bench._common import ROOT, create_database, throwaway_server
from bench.sqldef_renames import with_renames
from mmschema.localserver import LocalServer

ALLOW = "destructive,rewrite,blocking,long_running,may_fail"
USER_SCHEMAS = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'mmschema')
ORDER BY 1
"""
PG_DUMP_NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict |\\unrestrict )")
TIMEOUT_S = 180


def run(args: list[str], cwd: Path) -> tuple[int, str]:
    """Exit status and output (stdout, then stderr) of a command, with a time limit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "MMSCHEMA"))}
    env.pop("DATABASE_URL", None)
    try:
        done = subprocess.run(
            args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {TIMEOUT_S}s"
    return done.returncode, done.stdout + done.stderr


def mmschema(*args: str, cwd: Path) -> tuple[int, str]:
    return run([sys.executable, "-m", "mmschema", *args], cwd)


class Pair:
    """One pair's databases on the shared server."""

    def __init__(self, server: LocalServer, work: Path) -> None:
        self.server = server
        self.work = work

    def dsn(self, name: str) -> str:
        return self.server.dsn(name)

    def load(self, name: str, script: Path) -> tuple[bool, str]:
        psql = str(self.server.bin_dir / "psql")
        code, output = run(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(name), "-f", str(script)],
            self.work,
        )
        return code == 0, output.strip()[-2000:]

    def schemas(self, name: str) -> list[str]:
        """The database's own schemas: a schema only the other one has cannot be dumped."""
        with psycopg.connect(self.dsn(name)) as conn:
            return sorted(str(row[0]) for row in conn.execute(USER_SCHEMAS).fetchall())

    def dump(self, name: str, schemas: list[str]) -> tuple[int, str]:
        """The file `mmschema dump` writes: its warnings (stderr) are not part of it."""
        flags = [part for schema in schemas for part in ("--schema", schema)]
        written = self.work / f"{name}.dump.yaml"
        code, output = mmschema(
            "dump", "--all-grants", "-d", self.dsn(name), *flags, "-o", str(written), cwd=self.work
        )
        return (code, written.read_text()) if code == 0 else (code, output)

    def pg_dump(self, name: str) -> str:
        pg_dump = str(self.server.bin_dir / "pg_dump")
        args = [
            pg_dump,
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--exclude-schema=mmschema",
            "-d",
            self.dsn(name),
        ]
        _, output = run(args, self.work)
        return "\n".join(
            ln for ln in output.splitlines() if ln.strip() and not PG_DUMP_NOISE.match(ln)
        )


def diff_text(want: str, have: str) -> str:
    lines = difflib.unified_diff(want.splitlines(), have.splitlines(), "want", "t", lineterm="")
    return "\n".join(lines)[:4000]


def run_pair(server: LocalServer, folder: Path) -> dict[str, Any]:
    work = folder / "work"
    work.mkdir(exist_ok=True)
    pair = Pair(server, work)
    for name in ("t", "want", "scratch"):
        create_database(server, name, "template0")
    reordered: list[str] = []
    for name, script, failure in (
        ("t", "before.sql", "bad-before"),
        ("want", "after.sql", "bad-after"),
    ):
        loaded, output = pair.load(name, folder / script)
        if not loaded and folder.name.startswith("sqldef-"):
            # sqldef's "desired" is a set of statements its tool orders, not a script
            create_database(server, name, "template0")
            loaded, output = load_in_rounds(pair.dsn(name), (folder / script).read_text())
            reordered.append(script)
        if not loaded:
            return {"outcome": failure, "detail": output}
    code, desired = pair.dump("want", pair.schemas("want"))
    if code != 0:
        return {"outcome": "dump-failed", "detail": desired[-2000:]}
    renames = 0
    if folder.name.startswith("sqldef-"):
        desired, renames = with_renames(desired, (folder / "after.sql").read_text())
    (work / "schema.yaml").write_text(desired)
    common = [
        "-d",
        pair.dsn("t"),
        "-f",
        str(work / "schema.yaml"),
        "--dev-database",
        pair.dsn("scratch"),
        "--prune",
    ]
    code, output = mmschema("apply", "--yes", "--allow", ALLOW, *common, cwd=work)
    if code != 0:
        return {"outcome": "apply-failed", "detail": output[-3000:]}
    code, output = mmschema("plan", "--detailed-exitcode", *common, cwd=work)
    if code != 0:
        return {"outcome": "not-converged", "detail": output[-3000:]}
    declared = diff_text(
        pair.dump("want", pair.schemas("want"))[1], pair.dump("t", pair.schemas("t"))[1]
    )
    if declared:
        return {"outcome": "differs", "detail": declared}
    dumped = diff_text(pair.pg_dump("want"), pair.pg_dump("t"))
    result: dict[str, Any] = {"outcome": "pgdump-differs", "detail": dumped} if dumped else {
        "outcome": "ok"
    }
    if renames:
        result["renames"] = renames
    return {**result, "reordered": reordered} if reordered else result


def load_in_rounds(dsn: str, text: str) -> tuple[bool, str]:
    """The statements run one by one, those that fail tried again after the others, until
    all ran or a round runs none: an order-free set loads in its dependency order."""
    try:
        pending = [s for s in pglast.split(text) if s.strip()]
    except pglast.parser.ParseError as error:
        return False, f"does not parse: {error}"
    errors: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        while pending:
            errors, failed = [], []
            for statement in pending:
                try:
                    conn.execute(statement.encode())
                except psycopg.Error as error:
                    failed.append(statement)
                    errors.append(str(error).splitlines()[0])
            if len(failed) == len(pending):
                return False, "in any order: " + "; ".join(errors)
            pending = failed
    return True, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", type=Path, help="folder of <pair>/before.sql + after.sql")
    parser.add_argument("--filter", action="append", default=[], help="pair names containing")
    parser.add_argument("--major", type=int, default=17)
    args = parser.parse_args(argv)
    folders = sorted(p for p in args.pairs.iterdir() if (p / "after.sql").exists())
    if args.filter:
        folders = [f for f in folders if any(text in f.name for text in args.filter)]
    results: dict[str, dict[str, Any]] = {}
    roles = args.pairs / "roles.txt"
    with throwaway_server(args.major) as server:
        if roles.exists():
            with psycopg.connect(server.dsn(), autocommit=True) as admin:
                for role in filter(None, roles.read_text().splitlines()):
                    admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
        for number, folder in enumerate(folders, 1):
            started = time.monotonic()
            if (folder / "skip").exists():
                result = {"outcome": "skipped", "detail": (folder / "skip").read_text().strip()}
            else:
                try:
                    result = run_pair(server, folder)
                except psycopg.Error as error:  # the harness's own trouble: keep going
                    result = {"outcome": "harness-error", "detail": str(error)}
            result["seconds"] = round(time.monotonic() - started, 1)
            results[folder.name] = result
            print(f"[{number}/{len(folders)}] {result['outcome']:15} {folder.name}", flush=True)
    saved = args.pairs / "results.json"
    earlier = json.loads(saved.read_text()) if args.filter and saved.exists() else {}
    saved.write_text(json.dumps({**earlier, **results}, indent=1))  # a filtered run updates
    counts = Counter(r["outcome"] for r in results.values())
    print("\n" + ", ".join(f"{outcome}={count}" for outcome, count in counts.most_common()))
    print(f"results: {args.pairs / 'results.json'} (repository: {ROOT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
