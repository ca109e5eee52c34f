"""Hostile desired-state files, by family: each refused cleanly or accepted and converging.

Every file goes through `validate`, `plan` and `apply --yes` against a database holding
rows (a fresh copy per file). A refusal is exit 1 or 3 with `file:line:column: ...` or one
`mmschema: ...` line, no traceback, within 30 s, and leaves the database and the scratch
server exactly as they were. An accepted file converges (a second plan finds nothing) and
creates nothing the file does not declare, and no row of the existing tables changes.
The families run in-process (the outside view adds nothing there); a representative few
run through the installed command. SQL injection through the file's SQL fields is
tests/test_hostile_sql.py's.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from mmschema.desired.load import load_desired
from mmschema.localserver import LocalServer
from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql
from tests.outside import Shell

pytestmark = pytest.mark.one_major

SEED = """
CREATE SCHEMA ledger;
CREATE TYPE mood AS ENUM ('calm', 'angry');
CREATE TABLE accounts (id bigint PRIMARY KEY, email text UNIQUE, mood mood, created timestamptz);
CREATE TABLE ledger.entries (id bigserial PRIMARY KEY, account_id bigint REFERENCES accounts,
                             amount numeric(12,2), note text);
INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'calm', '2026-01-01'::timestamptz
  + g * interval '1 hour' FROM generate_series(1, 200) g;
INSERT INTO ledger.entries (account_id, amount, note)
  SELECT 1 + g % 200, g * 1.5, 'entry ' || g FROM generate_series(1, 400) g;
"""
SEED_TABLES = ("public.accounts", "ledger.entries")
# Roles other tests make, and the scratch server's unprivileged role (one per cluster, made
# on first use), are not the hostile file's doing.
OBJECTS = """
SELECT 'relation', n.nspname, c.relname, c.relkind::text FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname !~ '^(pg_|information_schema)'
UNION ALL SELECT 'schema', nspname, '', '' FROM pg_namespace
UNION ALL SELECT 'type', n.nspname, t.typname, t.typtype::text FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname !~ '^(pg_|information_schema)' AND t.typrelid = 0 AND t.typelem = 0
UNION ALL SELECT 'function', n.nspname, p.proname, '' FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname !~ '^(pg_|information_schema)'
UNION ALL SELECT 'large object', oid::text, '', '' FROM pg_largeobject_metadata
UNION ALL SELECT 'extension', extname, '', '' FROM pg_extension
UNION ALL SELECT 'role', rolname, '', '' FROM pg_roles
  WHERE rolname !~ '^(pg_|mm_|owner_|other_|mmschema_scratch)'
"""
# The table each new relation belongs to (itself, an index's table, a sequence's owner).
OWNERS = """
SELECT n.nspname, c.relname, coalesce(tn.nspname, n.nspname), coalesce(t.relname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_depend d ON d.objid = c.oid AND c.relkind = 'S' AND d.deptype IN ('a', 'i')
  AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
LEFT JOIN pg_class t ON t.oid = coalesce(i.indrelid, d.refobjid)
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE n.nspname !~ '^(pg_|information_schema)'
"""
SECONDS = 30
HEAD = "version: 1\n"
OK_TABLE = "tables:\n  hostile_ok:\n    columns: {id: {type: int4}}\n"


@dataclass(frozen=True)
class Hostile:
    """One hostile input: file text (or bytes), or a maker of a special file."""

    family: str
    name: str
    content: str | bytes | None = None
    make: Callable[[Path], str] | None = None  # writes into the directory, returns -f

    def write(self, directory: Path) -> str:
        if self.make is not None:
            return self.make(directory)
        path = directory / "schema.yaml"
        if isinstance(self.content, bytes):
            path.write_bytes(self.content)
        else:
            path.write_text(self.content or "")
        return "schema.yaml"

    @property
    def id(self) -> str:
        return f"{self.family}-{self.name}"


def table(name: str, columns: str = "{id: {type: int4}}", more: str = "") -> str:
    return f"{HEAD}tables:\n  {name}:\n    columns: {columns}\n{more}"


def syntax_errors() -> Iterator[Hostile]:
    texts = {
        "unclosed-flow-sequence": HEAD + "tables: [a, b\n",
        "unclosed-flow-mapping": HEAD + "tables: {a: 1\n",
        "bad-indentation": HEAD + "tables:\n  t:\n     columns: {}\n    comment: x\n",
        "tab-indentation": HEAD + "tables:\n\tt:\n\t\tcolumns: {}\n",
        "unclosed-double-quote": HEAD + 'tables:\n  "t:\n    columns: {}\n',
        "unclosed-single-quote": HEAD + "tables:\n  't:\n    columns: {}\n",
        "value-after-value": HEAD + "tables: a: b: c\n",
        "list-at-top": "- version: 1\n- tables: {}\n",
        "two-documents": HEAD + "---\nversion: 1\n",
        "unknown-directive": "%YAML 9.9\n---\n" + HEAD,
        "bad-escape": HEAD + 'tables:\n  "t\\q":\n    columns: {}\n',
        "undefined-alias": HEAD + "tables: *nowhere\n",
        "complex-key": HEAD + "tables:\n  ? [a, b]\n  : {columns: {}}\n",
        "control-character": HEAD + "tables:\n  t\x07:\n    columns: {}\n",
        "nul-byte": HEAD + "tables:\n  t\x00x:\n    columns: {}\n",
        "stray-colon-key": HEAD + ": nothing\n",
        "anchor-without-node": HEAD + "tables: &a\n",
        "block-scalar-garbage": HEAD + "tables: |\n  x\n y\n",
        "python-tag": HEAD + "tables: !!python/object/apply:os.system ['id']\n",
        "custom-tag": HEAD + "tables: !shout {t: {columns: {}}}\n",
        "binary-tag": HEAD + "tables: !!binary aGVsbG8=\n",
        "set-tag": HEAD + "tables: !!set {a, b}\n",
    }
    for name, text in texts.items():
        yield Hostile("syntax", name, text)


def wrong_types() -> Iterator[Hostile]:
    texts = {
        "version-string": 'version: "1"\n' + OK_TABLE,
        "version-2": "version: 2\n" + OK_TABLE,
        "version-float": "version: 1.0\n" + OK_TABLE,
        "version-bool": "version: true\n" + OK_TABLE,
        "tables-list": HEAD + "tables: [a, b]\n",
        "tables-string": HEAD + "tables: everything\n",
        "columns-list": table("t", "[id, name]"),
        "type-number": table("t", "{id: {type: 5}}"),
        "type-missing": table("t", "{id: {nullable: false}}"),
        "type-empty": table("t", "{id: {type: ''}}"),
        "nullable-string": table("t", "{id: {type: int4, nullable: 'yes'}}"),
        "primary-key-string": table("t", more="    primary_key: id\n"),
        "primary-key-unknown-column": table("t", more="    primary_key: [nope]\n"),
        "indexes-list": table("t", more="    indexes: [a]\n"),
        "index-no-columns": table("t", more="    indexes: {i: {unique: true}}\n"),
        "index-unknown-column": table("t", more="    indexes: {i: {columns: [nope]}}\n"),
        "default-list": table("t", "{id: {type: int4, default: [1, 2]}}"),
        "unique-bool": table("t", more="    unique: true\n"),
        "foreign-keys-string": table("t", more="    foreign_keys: nothing\n"),
        "lock-timeout-word": HEAD + "settings: {lock_timeout: fast}\n" + OK_TABLE,
        "retries-negative": HEAD + "settings: {retries: -1}\n" + OK_TABLE,
        "backfill-connections-zero": HEAD + "settings: {backfill_connections: 0}\n" + OK_TABLE,
        "statement-below-lock": HEAD
        + "settings: {lock_timeout: 5s, statement_timeout: 1s}\n"
        + OK_TABLE,
        "allow-destructive-in-file": HEAD + "settings: {allow: [destructive]}\n" + OK_TABLE,
        "checks-number": table("t", more="    checks: 5\n"),
        "comment-mapping": table("t", more="    comment: {a: b}\n"),
        "state-gone": table("t", more="    state: gone\n"),
        "identity-sometimes": table("t", "{id: {type: int4, identity: sometimes}}"),
        "partition-by-number": table("t", more="    partition_by: 5\n"),
        "replica-identity-number": table("t", more="    replica_identity: 5\n"),
        "date-as-comment": table("t", more="    comment: 2026-01-01\n"),
        "enum-labels-string": HEAD + "enums: {e: {labels: abc}}\n",
        "enum-label-twice": HEAD + "enums: {e: {labels: [a, a]}}\n",
        "extensions-mapping": HEAD + "extensions: {a: b}\n",
        "assertions-list": HEAD + "assertions: [x]\n",
        "identity-and-default": table("t", "{id: {type: int4, identity: always, default: 1}}"),
        "huge-integer-retries": HEAD + "settings: {retries: 99999999999999999999999}\n",
        "infinite-float": table("t", "{id: {type: int4, default: .inf}}"),
    }
    for name, text in texts.items():
        yield Hostile("types", name, text)


def unknown_and_duplicate_keys() -> Iterator[Hostile]:
    texts = {
        "unknown-top": HEAD + "tabels:\n  t: {columns: {id: {type: int4}}}\n",
        "unknown-table-key": table("t", more="    colums: {}\n"),
        "unknown-column-key": table("t", "{id: {type: int4, nulable: false}}"),
        "unknown-index-key": table("t", more="    indexes: {i: {columns: [id], uniq: true}}\n"),
        "unknown-settings-key": HEAD + "settings: {lock_timout: 1s}\n" + OK_TABLE,
        "unknown-fk-key": table(
            "t", more="    foreign_keys: {f: {columns: [id], referenses: {table: t}}}\n"
        ),
        "unknown-enum-key": HEAD + "enums: {e: {lables: [a]}}\n",
        "x-extension-key-accepted": HEAD + "x-notes: anything at all\n" + OK_TABLE,
        "duplicate-top": HEAD + OK_TABLE + OK_TABLE,
        "duplicate-version": HEAD + HEAD + OK_TABLE,
        "duplicate-table": HEAD + "tables:\n  t: {columns: {id: {type: int4}}}\n"
        "  t: {columns: {id: {type: int8}}}\n",
        "duplicate-column": table("t", "{id: {type: int4}, id: {type: int8}}"),
        "duplicate-type-key": table("t", "{id: {type: int4, type: int8}}"),
        "duplicate-index": table(
            "t", more="    indexes:\n      i: {columns: [id]}\n      i: {columns: [id]}\n"
        ),
        "duplicate-quoted-spelling": HEAD + "tables:\n  t: {columns: {id: {type: int4}}}\n"
        '  "t": {columns: {id: {type: int4}}}\n',
        "duplicate-through-merge-accepted": HEAD
        + "x-base: &base {type: int4}\n"
        + table("t", "{id: {<<: *base, type: int8}}").removeprefix(HEAD),
        "same-table-two-spellings": HEAD + "tables:\n  t: {columns: {id: {type: int4}}}\n"
        "  public.t: {columns: {id: {type: int4}}}\n",
        "same-index-name-two-tables": HEAD
        + "tables:\n  a: {columns: {id: {type: int4}}, indexes: {ix: {columns: [id]}}}\n"
        "  b: {columns: {id: {type: int4}}, indexes: {ix: {columns: [id]}}}\n",
    }
    for name, text in texts.items():
        yield Hostile("keys", name, text)


def alias_bombs() -> Iterator[Hostile]:
    def laughs(levels: int, width: int) -> str:
        lines = [HEAD.strip(), "x-a: &a [" + ", ".join(["lol"] * width) + "]"]
        for i in range(1, levels):
            lines.append(
                f"x-{i}: &l{i} [" + ", ".join([f"*{'a' if i == 1 else f'l{i - 1}'}"] * width) + "]"
            )
        return "\n".join(lines) + "\n"

    yield Hostile("aliases", "billion-laughs", laughs(10, 10))
    yield Hostile("aliases", "wide-laughs", laughs(4, 200))
    yield Hostile("aliases", "deep-laughs", laughs(30, 2))
    yield Hostile("aliases", "self-reference", HEAD + "x-a: &a [*a]\n")
    yield Hostile("aliases", "merge-self", HEAD + "x-a: &a {<<: *a}\n")
    merges = [HEAD.strip(), "x-0: &m0 {k0: 1}"]
    for i in range(1, 40):
        merges.append(f"x-{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}")
    yield Hostile("aliases", "merge-fan", "\n".join(merges) + "\n")
    yield Hostile(
        "aliases",
        "columns-by-alias-accepted",
        HEAD + "x-col: &c {type: int4}\n" + table("t", "{a: *c, b: *c}").removeprefix(HEAD),
    )


def encodings() -> Iterator[Hostile]:
    good = table("hostile_enc").encode()
    yield Hostile("encoding", "latin-1", b"version: 1\ntables:\n  caf\xe9:\n    columns: {}\n")
    yield Hostile(
        "encoding", "utf-16-bom", "\ufeff".encode("utf-16-le") + good.decode().encode("utf-16-le")
    )
    yield Hostile("encoding", "utf-16-no-bom", good.decode().encode("utf-16-be"))
    yield Hostile("encoding", "surrogate-bytes", good + b"x-s: \xed\xa0\x80\n")
    yield Hostile("encoding", "overlong-slash", good + b"x-s: \xc0\xaf\n")
    yield Hostile("encoding", "truncated-multibyte", good + b"x-s: \xe2\x82\n")
    yield Hostile("encoding", "bom-accepted", b"\xef\xbb\xbf" + good)
    yield Hostile("encoding", "bom-twice", b"\xef\xbb\xbf\xef\xbb\xbf" + good)
    yield Hostile("encoding", "bom-in-middle", good + b"x-a: \xef\xbb\xbfb\n")
    yield Hostile("encoding", "crlf-accepted", good.replace(b"\n", b"\r\n"))
    yield Hostile("encoding", "cr-only", good.replace(b"\n", b"\r"))
    yield Hostile("encoding", "utf-32", good.decode().encode("utf-32"))


def empties() -> Iterator[Hostile]:
    texts = {
        "empty": "",
        "whitespace": "   \n\n\t\n",
        "comments": "# nothing\n# at all\n",
        "document-marker": "---\n",
        "null": "null\n",
        "tilde": "~\n",
        "version-only-accepted": HEAD,
        "tables-null-accepted": HEAD + "tables:\n",
        "scalar": "just words\n",
        "number": "42\n",
    }
    for name, text in texts.items():
        yield Hostile("empty", name, text)


def special_files() -> Iterator[Hostile]:
    def fifo(directory: Path) -> str:
        os.mkfifo(directory / "schema.yaml", 0o644)
        return "schema.yaml"

    def zero(directory: Path) -> str:
        (directory / "schema.yaml").symlink_to("/dev/zero")
        return "schema.yaml"

    def null(directory: Path) -> str:
        return "/dev/null"

    def folder_with_fifo(directory: Path) -> str:
        (directory / "schema").mkdir()
        (directory / "schema" / "a.yaml").write_text(table("hostile_a"))
        os.mkfifo(directory / "schema" / "b.yaml", 0o644)
        return "schema"

    def folder_with_folder(directory: Path) -> str:
        (directory / "schema" / "b.yaml").mkdir(parents=True)
        (directory / "schema" / "a.yaml").write_text(table("hostile_a"))
        return "schema"

    def dangling_link(directory: Path) -> str:
        (directory / "schema.yaml").symlink_to(directory / "nowhere.yaml")
        return "schema.yaml"

    def unreadable_folder(directory: Path) -> str:
        (directory / "schema").mkdir()
        return "schema"

    for maker in (
        fifo,
        zero,
        null,
        folder_with_fifo,
        folder_with_folder,
        dangling_link,
        unreadable_folder,
    ):
        yield Hostile("special", maker.__name__.replace("_", "-"), make=maker)


def huge_and_deep() -> Iterator[Hostile]:
    def sparse(directory: Path) -> str:
        with (directory / "schema.yaml").open("wb") as handle:
            handle.truncate(64 * 1024 * 1024 + 1)
        return "schema.yaml"

    yield Hostile("huge", "over-64-mib", make=sparse)
    yield Hostile("huge", "500-brackets", HEAD + "tables: " + "[" * 500 + "\n")
    yield Hostile("huge", "500-braces", HEAD + "tables: " + "{a: " * 500 + "\n")
    yield Hostile("huge", "500-closed-brackets", HEAD + "x-a: " + "[" * 500 + "]" * 500 + "\n")
    yield Hostile(
        "huge",
        "block-300-deep",
        HEAD + "x-deep:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(300)),
    )
    yield Hostile(
        "huge",
        "deep-aliases",
        HEAD + "x-0: &d0 [1]\n" + "".join(f"x-{i}: &d{i} [*d{i - 1}]\n" for i in range(1, 120)),
    )
    yield Hostile(
        "huge",
        "one-megabyte-comment-accepted",
        table("hostile_big", more="    comment: '" + "x" * 1_000_000 + "'\n"),
    )
    yield Hostile("huge", "one-megabyte-name", table("t" * 1_000_000))
    yield Hostile(
        "huge",
        "2000-columns-over-limit",
        table("hostile_wide", "{" + ", ".join(f"c{i}: {{type: int4}}" for i in range(2000)) + "}"),
    )
    yield Hostile(
        "huge",
        "long-line-of-keys",
        HEAD + "x-a: {" + ", ".join(f"k{i}: {i}" for i in range(50_000)) + "}\n",
    )


def hostile_names() -> Iterator[Hostile]:
    long_ascii = "a" * 64
    names = {
        "double-quote": '"a""b"',
        "single-quote": "o'brien",
        "semicolon": "'t; DROP TABLE accounts; --'",
        "unicode": "tëst_ünïcode",
        "emoji": "'😀_table'",
        "right-to-left": "'جدول'",
        "zero-width-joiner": "'a\u200db'",
        "spaces": "'has spaces'",
        "newline": '"a\\nb"',
        "nul-escape": '"a\\0b"',
        "dots-quoted": "'ledger.\"x.y\"'",
        "three-parts": "a.b.c",
        "empty-quoted": "'\"\"'",
        "63-bytes-accepted": "b" * 63,
        "64-bytes": long_ascii,
        "64-bytes-multibyte": "é" * 32,
        "reserved-select": "select",
        "reserved-user": "user",
        "reserved-table": "'table'",
        "reserved-order": "order",
        "pg-catalog-schema": "pg_catalog.hostile",
        "information-schema": "information_schema.hostile",
        "pg-temp-schema": "pg_temp.hostile",
        "pg-toast-schema": "pg_toast.hostile",
        "mmschema-schema": "mmschema.hostile",
        "shadow-existing-accounts": "public.accounts",
        "uppercase-accepted": "HostileUpper",
        "dollar-accepted": "hostile$dollar",
        "percent": "'hostile%s'",
        "backslash": "'hostile\\\\x'",
        "leading-digit": "'1hostile'",
        "only-digits": "'12345'",
        "leading-space-unquoted": "' hostile'",
        "dot-only": "'.'",
    }
    for name, key in names.items():
        yield Hostile("names", f"table-{name}", table(key))
    columns = {
        "quote": '{"a""b": {type: int4}}',
        "semicolon": "{'x; DROP TABLE accounts': {type: int4}}",
        "64-bytes": "{" + long_ascii + ": {type: int4}}",
        "reserved": "{select: {type: int4}, user: {type: int4}}",
        "empty": "{'': {type: int4}}",
        "ctid": "{ctid: {type: int4}}",
        "oid-accepted": "{oid: {type: int4}}",
        "xmin": "{xmin: {type: int4}}",
        "unicode-accepted": "{ñame: {type: int4}}",
    }
    for name, spec in columns.items():
        yield Hostile("names", f"column-{name}", table("hostile_cols", spec))
    others = {
        "index-semicolon": "    indexes: {'i; DROP TABLE accounts': {columns: [id]}}\n",
        "index-64-bytes": "    indexes: {" + long_ascii + ": {columns: [id]}}\n",
        "check-name-quote": "    checks: {'c\"x': id > 0}\n",
        "unique-name-64": "    unique: {" + long_ascii + ": [id]}\n",
        "comment-sql-accepted": '    comment: "*/ ; DROP TABLE accounts; --"\n',
        "fk-to-quoted-missing": "    foreign_keys: {f: {columns: [id], references: "
        "{table: '\"no; such\"'}}}\n",
    }
    for name, more in others.items():
        yield Hostile("names", name, table("hostile_more", more=more))
    yield Hostile(
        "names",
        "enum-label-quote-accepted",
        HEAD + "enums: {hostile_enum: {labels: [\"it's\", 'a\"b', '; DROP']}}\n",
    )
    yield Hostile(
        "names", "enum-label-64", HEAD + "enums: {hostile_enum: {labels: [" + long_ascii + "]}}\n"
    )
    yield Hostile(
        "names", "enum-name-semicolon", HEAD + "enums: {'e; DROP TABLE accounts': {labels: [a]}}\n"
    )


def all_hostile() -> list[Hostile]:
    families = (
        syntax_errors,
        wrong_types,
        unknown_and_duplicate_keys,
        alias_bombs,
        encodings,
        empties,
        special_files,
        huge_and_deep,
        hostile_names,
    )
    return [hostile for family in families for hostile in family()]


HOSTILE = all_hostile()
TALLY: Counter[str] = Counter()


def outcome_of(result: Result) -> str:
    """accepted, refused (cleanly), or what went wrong."""
    text = result.stdout + result.stderr
    if "Traceback" in text:
        return "traceback"
    if result.code in (0, 2):
        return "accepted"
    if result.code not in (1, 3):
        return f"exit {result.code}"
    lines = result.stderr.strip().splitlines()
    first = lines[0] if lines else ""
    if not first or not (first.startswith("mmschema: ") or ": " in first):
        return "unclear refusal"
    return "refused"


def timed(run: Callable[[], Result]) -> Result | None:
    """The result, or None when it has not ended after SECONDS (a hang)."""
    box: list[Result] = []
    worker = threading.Thread(target=lambda: box.append(run()), daemon=True)
    worker.start()
    worker.join(SECONDS)
    return box[0] if box else None


def snapshot(dsn: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(every object outside the system schemas, a digest of each seed table's rows)."""
    objects = sorted(query(dsn, OBJECTS), key=repr)
    rows = []
    for name in SEED_TABLES:
        rows += query(
            dsn,
            f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {name} t",
        )
    return objects, rows


@pytest.fixture(scope="module")
def seed(pg_server: LocalServer) -> Iterator[str]:
    """A template database holding rows, copied for each hostile file."""
    name = "hostile_seed"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    run_sql(pg_server.dsn(name), SEED)
    yield name
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    print(f"\nhostile files: {json.dumps(dict(sorted(TALLY.items())))}")


@pytest.fixture
def target(pg_server: LocalServer, seed: str) -> Iterator[str]:
    name = f"hostile_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(seed)
            )
        )
    yield pg_server.dsn(name)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def declared_tables(path: Path) -> set[tuple[str, str]]:
    state = load_desired(path)
    return {(t.name.schema, t.name.name) for t in state.tables}


def check_created_only_declared(
    dsn: str, before: list[tuple[object, ...]], declared: set[tuple[str, str]]
) -> None:
    old = {(row[1], row[2]) for row in before if row[0] == "relation"}
    for schema, name, owner_schema, owner in query(dsn, OWNERS):
        if (schema, name) in old or schema == "mmschema":
            continue
        assert (owner_schema, owner) in declared, f"{schema}.{name} was not declared"
    after = {
        row
        for row in query(dsn, OBJECTS)
        if row[0] in ("function", "large object", "role", "extension")
    }
    assert after == {
        row for row in before if row[0] in ("function", "large object", "role", "extension")
    }


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.id for h in HOSTILE])
def test_hostile_file(hostile: Hostile, target: str, scratch_dsn: str, tmp_path: Path) -> None:
    path = hostile.write(tmp_path)
    before = snapshot(target)
    scratch_before = snapshot_scratch(scratch_dsn)
    outcomes: dict[str, str] = {}
    results: dict[str, Result] = {}
    for command in ("validate", "plan", "apply"):
        args = (
            ["validate", "-f", path]
            if command == "validate"
            else [
                command,
                "-f",
                path,
                "-d",
                target,
                "--dev-database",
                scratch_dsn,
                *(["--yes"] if command == "apply" else []),
            ]
        )
        result = timed(functools.partial(run_cli, args, tmp_path))
        if result is None:
            TALLY["hangs"] += 1
            pytest.fail(f"{command} did not end within {SECONDS}s")
        results[command] = result
        outcomes[command] = outcome_of(result)
    TALLY["tried"] += 1
    text = {c: r.stdout + r.stderr for c, r in results.items()}
    if any(o == "traceback" for o in outcomes.values()):
        TALLY["tracebacks"] += 1
    assert all(o in ("accepted", "refused") for o in outcomes.values()), (outcomes, text)
    if outcomes["validate"] == "refused":
        assert outcomes["plan"] == outcomes["apply"] == "refused", (outcomes, text)
    if outcomes["apply"] == "refused":
        TALLY["refused"] += 1
        assert snapshot(target) == before, text["apply"]
    else:
        TALLY["accepted"] += 1
        assert results["apply"].code == 0, text["apply"]
        again = run_cli(
            [
                "plan",
                "-f",
                path,
                "-d",
                target,
                "--dev-database",
                scratch_dsn,
                "--detailed-exitcode",
            ],
            tmp_path,
        )
        assert again.code == 0, again.stdout + again.stderr
        assert snapshot(target)[1] == before[1]  # no row of the seed tables changed
        check_created_only_declared(target, before[0], declared_tables(tmp_path / path))
    assert snapshot_scratch(scratch_dsn) == scratch_before


def snapshot_scratch(dsn: str) -> list[tuple[object, ...]]:
    return sorted(query(dsn, OBJECTS), key=repr)


def test_enough_hostile_files() -> None:
    assert len(HOSTILE) >= 150
    assert len({h.id for h in HOSTILE}) == len(HOSTILE)


OUTSIDE = [
    "special-fifo",
    "special-zero",
    "huge-500-brackets",
    "aliases-billion-laughs",
    "encoding-latin-1",
    "names-table-64-bytes",
]


@pytest.mark.parametrize("case", OUTSIDE)
def test_hostile_file_through_the_installed_command(
    shell: Shell, target: str, scratch_dsn: str, case: str
) -> None:
    hostile = next(h for h in HOSTILE if h.id == case)
    path = hostile.write(shell.project)
    before = snapshot(target)
    for command in (
        ["validate"],
        ["plan", "-d", target, "--dev-database", scratch_dsn],
        ["apply", "--yes", "-d", target, "--dev-database", scratch_dsn],
    ):
        result = shell.run(*command, "-f", path, timeout=SECONDS)
        assert result.code == 1, result.output
        assert "Traceback" not in result.output
        first = result.stderr.strip().splitlines()[0]
        assert first.startswith((f"{path}:", "mmschema: ")), result.output
    assert snapshot(target) == before
