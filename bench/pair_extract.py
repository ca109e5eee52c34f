"""Writes other projects' schema-diff test cases as before/after folders for bench.pair_suite.

    .venv/bin/python -m bench.pair_extract OUT_DIR [--pg-schema-diff REPO] [--pgschema REPO]
                                           [--migra REPO] [--sqldef REPO]

Each REPO is a git clone (or bare mirror) of stripe/pg-schema-diff, pgschema/pgschema,
djrobstep/migra or sqldef/sqldef; the cases are read from its HEAD. Every case becomes
`OUT_DIR/<source>-<group>-<name>/` with `before.sql`, `after.sql` and `name.txt`; a case the
upstream suite expects to fail, or that needs a server feature the suite cannot give (an
extension it does not ship, another flavor), gets a `skip` file saying why. The pairs are
other projects' text: they stay outside this repository.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Case:
    folder: str
    name: str
    before: str
    after: str
    skip: str = ""


def git_show(repo: Path, path: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "show", f"HEAD:{path}"], capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else ""


def git_files(repo: Path, under: str) -> list[str]:
    done = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD", under],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:80].lower()


def go_statements(case: str, field: str) -> str:
    """The SQL of one `field: []string{`...`, ...}` of a pg-schema-diff Go test case."""
    found = re.search(field + r":\s*(nil|\[\]string\{((?:\s*`[^`]*`\s*,?)*)\s*\})", case, re.S)
    if not found or found.group(1) == "nil":
        return ""
    return ";\n".join(re.findall(r"`(.*?)`", found.group(2), re.S)) + ";\n"


def pg_schema_diff(repo: Path) -> Iterator[Case]:
    folder = "internal/migration_acceptance_tests"
    for path in git_files(repo, folder):
        group = re.fullmatch(rf"{folder}/(\w+)_cases_test\.go", path)
        if not group:
            continue
        text = git_show(repo, path)
        for number, case in enumerate(re.split(r"\n\t\{\n\t\tname:\s*", text)[1:]):
            title = re.match(r'"([^"]*)"', case)
            name = title.group(1) if title else str(number)
            skip = "upstream expects a plan error" if "expectedPlanError" in case else ""
            if "roles:" in case.split("oldSchemaDDL")[0]:
                skip = skip or "needs roles the upstream harness creates"
            yield Case(
                f"psd-{group.group(1)}-{number:03d}",
                name,
                go_statements(case, "oldSchemaDDL"),
                go_statements(case, "newSchemaDDL"),
                skip,
            )


def pgschema(repo: Path) -> Iterator[Case]:
    for path in git_files(repo, "testdata/diff"):
        if not path.endswith("/new.sql"):
            continue
        case = path.removesuffix("/new.sql")
        group, name = case.split("/")[-2:]
        setup = git_show(repo, f"{case}/setup.sql")
        yield Case(
            f"pgschema-{group}-{slug(name)}",
            name,
            setup + "\n" + git_show(repo, f"{case}/old.sql"),
            setup + "\n" + git_show(repo, f"{case}/new.sql"),
        )


def migra(repo: Path) -> Iterator[Case]:
    for path in git_files(repo, "tests/FIXTURES"):
        if not path.endswith("/b.sql"):
            continue
        case = path.removesuffix("/b.sql")
        name = case.split("/")[-1]
        yield Case(
            f"migra-{slug(name)}",
            name,
            git_show(repo, f"{case}/a.sql"),
            git_show(repo, f"{case}/b.sql"),
        )


def sqldef_skip(case: dict[str, object]) -> str:
    if "error" in case:
        return "upstream expects an error"
    flavor = str(case.get("flavor", ""))
    if flavor and not flavor.startswith("!"):
        return f"needs the {flavor} flavor"
    if case.get("user") or case.get("managed_roles"):
        return "needs roles the upstream harness creates"
    return ""


def sqldef(repo: Path) -> Iterator[Case]:
    for path in git_files(repo, "cmd/psqldef"):
        group = re.fullmatch(r"cmd/psqldef/tests_?(\w*)\.yml", path)
        if not group:
            continue
        cases = yaml.safe_load(git_show(repo, path)) or {}
        for name, case in cases.items():
            if not isinstance(case, dict):
                continue
            yield Case(
                f"sqldef-{group.group(1) or 'main'}-{slug(str(name))}",
                str(name),
                str(case.get("current") or ""),
                str(case.get("desired") or ""),
                sqldef_skip(case),
            )


SOURCES = {"pg-schema-diff": pg_schema_diff, "pgschema": pgschema, "migra": migra, "sqldef": sqldef}


def write(out: Path, case: Case) -> None:
    folder = out / case.folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "before.sql").write_text(case.before)
    (folder / "after.sql").write_text(case.after)
    (folder / "name.txt").write_text(case.name + "\n")
    skip = folder / "skip"
    if case.skip:
        skip.write_text(case.skip + "\n")
    elif skip.exists():
        skip.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder the pairs are written into")
    for source in SOURCES:
        parser.add_argument(f"--{source}", type=Path, metavar="REPO", help=f"a clone of {source}")
    args = parser.parse_args(argv)
    for source, cases in SOURCES.items():
        repo = getattr(args, source.replace("-", "_"))
        if repo is None:
            continue
        written = skipped = 0
        for case in cases(repo):
            write(args.out, case)
            written += 1
            skipped += bool(case.skip)
        print(f"{source}: {written} pairs ({skipped} marked skip)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
