"""Generated hostile files: one valid schema.yaml mutated case by case, with a fixed seed.

Families: a wrong type in every field, odd names at every name, SQL smuggled into every
SQL-carrying field, huge and deep values, duplicate keys, alias bombs, truncated files,
binary junk, other encodings, and a directory or an unreadable file in the file's place.
Every case is answered by `validate` (and, when validate accepts it, by `plan -d`) with
exit 0 or with exit 1 and one line, `schema.yaml:line:column: ...` near the mutation; no
traceback, no hang; the target and the scratch server unchanged, no smuggled statement
run. All cases run in-process (fast); a seeded sample of each family, and every special
file, runs through the installed command.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.clirunner import Result, run_cli
from tests.conftest import query, run_sql
from tests.outside import Shell, taking_turns

pytestmark = pytest.mark.one_major

SEED = 20261207
SECONDS = 30
SAMPLE = 1  # cases of each family also run through the installed command (special: all)
PLANNED = 2  # cases of each family that validate accepts, also planned in-process
PWNED = "mmschema_pwned_gen"
PAYLOAD = f"CREATE ROLE {PWNED}; DROP TABLE data"
TARGET_DATA = (
    "CREATE TABLE data (id int PRIMARY KEY); INSERT INTO data SELECT generate_series(1, 5)"
)

BASE = """\
version: 1
settings:
  lock_timeout: 3s
  retries: 5
schemas:
  ledger: {comment: "les livres, café ☕"}
sequences:
  order_numbers: {as: integer, start: 1000, increment: 1, cache: 1, cycle: false}
enums:
  order_status: {labels: [new, open, filled]}
domains:
  amount:
    type: numeric(12,2)
    default: 0
    nullable: false
    checks:
      positive: VALUE >= 0
composite_types:
  address:
    attributes:
      street: text
      zip: {type: text, collation: C}
tables:
  sessions:
    columns:
      id: {type: text, nullable: false}
      symbol: {type: text, comment: the symbol}
      pairs: {type: jsonb, nullable: false, default: "'[]'::jsonb",
              backfill: "jsonb_build_array(symbol)", backfill_where: "symbol IS NOT NULL"}
    primary_key: [id]
    indexes:
      idx_sessions_pairs_gin: {using: gin, columns: [pairs]}
  orders:
    columns:
      id: {type: bigint, identity: always}
      number: {type: integer, default: "nextval('order_numbers')"}
      sessionid: {type: text, nullable: false}
      status: {type: order_status, nullable: false, default: "'new'"}
      price: {type: "numeric(20,8)", using: "price::numeric"}
      qty: {type: numeric, default: 0}
      total: {type: numeric, generated: "qty * price"}
      owner: {type: text, default: current_user}
    primary_key: [id]
    unique:
      orders_number: {columns: [number], deferrable: initially_deferred}
    foreign_keys:
      orders_session: {columns: [sessionid], references: {table: sessions}, on_delete: cascade}
    checks:
      price_positive: price > 0
      qty_ok: {expr: qty >= 0, valid: false}
    exclude:
      one_number: "USING btree (number WITH =)"
    indexes:
      idx_orders_lower: {columns: [{expr: "lower(sessionid)"}], where: "status = 'open'",
                         include: [price]}
    row_level_security: true
    comment: the orders
  fills:
    columns: {id: {type: bigint}, venue: {type: text}}
    partition_by: LIST (venue)
  fills_a:
    partition_of: {table: fills, bound: "FOR VALUES IN ('a')"}
views:
  big_orders:
    query: SELECT id, total FROM orders WHERE total > 100
    options: {security_barrier: true}
materialized_views:
  order_totals:
    query: SELECT sessionid, sum(total) AS total FROM orders GROUP BY sessionid
    indexes:
      order_totals_session: {columns: [sessionid], unique: true}
functions:
  tax(amount numeric):
    returns: numeric
    language: sql
    body: SELECT amount * 1.2
    volatility: immutable
  touch():
    returns: trigger
    language: plpgsql
    body: BEGIN NEW.qty := coalesce(NEW.qty, 0); RETURN NEW; END
  ledger.balance(bigint):
    definition: |
      CREATE FUNCTION ledger.balance(account bigint) RETURNS numeric
      LANGUAGE sql STABLE BEGIN ATOMIC SELECT sum(qty) FROM public.orders WHERE id = account; END
procedures:
  archive(before date):
    language: plpgsql
    body: BEGIN DELETE FROM orders WHERE id < 0; END
triggers:
  orders.orders_touch:
    timing: before
    events: [insert, update]
    for_each: row
    when: NEW.qty IS DISTINCT FROM 0
    function: touch
    arguments: [orders]
policies:
  orders.own_rows:
    using: owner = current_user
    with_check: owner = current_user
assertions:
  no_orphans: SELECT o.id FROM orders o WHERE o.sessionid NOT IN (SELECT id FROM sessions)
"""

# Fields whose text reaches a server as SQL (the last key of their path).
SQL_FIELDS = {
    "default", "generated", "using", "backfill", "backfill_where", "where", "expr",
    "partition_by", "bound", "query", "body", "returns", "definition", "when", "with_check",
    "type", "function", "positive", "price_positive", "one_number", "no_orphans",
}  # fmt: skip
PAYLOADS = (
    "{orig}); {payload}; --",
    "{orig}; {payload}",
    "$$; {payload}; $$",
    "'; {payload}; --",
    "{orig} */; {payload}; /*",
    "{orig}\\\\'); {payload}; --",
)
ODD_NAMES = (
    '"a""b"', "o'brien", "a\\0b", "tëst_ünï", "جدول", "😀", "a" * 64, "é" * 32, "",
    " lead", "x.y.z", "\\e[31mred\\e]0;title\\a", "a\\nb", "\\ud800", "select", "%s%n",
    "${HOME}", "../../etc/passwd", "\\t", "pg_catalog.x", "'; DROP TABLE data; --",
)  # fmt: skip
WRONG = {
    "scalar": ("123", "[1, 2]", "{x: 1}", "true", "null", '""', "-1", "1.5e400", "2026-01-01"),
    "mapping": ("7", "[a]", '"text"', "null"),
    "sequence": ("{a: 1}", '"x"', "5", "null", "[[1]]"),
}


@dataclass(frozen=True)
class Case:
    """One hostile file (bytes, or a maker of a special file) and what may answer it."""

    family: str
    name: str
    content: bytes = b""
    lines: frozenset[int] = frozenset()  # where an error may point (empty: anywhere)
    refused: bool = False  # must be refused (exit 1)
    single: bool = True  # one error line (else: each line at file:line:column)
    make: Callable[[Path], None] | None = None

    def write(self, directory: Path) -> None:
        path = directory / "schema.yaml"
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        elif path.exists() or path.is_symlink():
            path.chmod(0o644)
            path.unlink()
        if self.make is not None:
            self.make(directory)
        else:
            path.write_bytes(self.content)


# --- the generator ----------------------------------------------------------------------


def _nodes(
    node: yaml.Node, path: tuple[object, ...] = ()
) -> Iterator[tuple[tuple[object, ...], yaml.Node, yaml.Node | None]]:
    """(path, value node, key node) of every value under node."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield (*path, key.value), value, key
            yield from _nodes(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            yield (*path, i), value, None
            yield from _nodes(value, (*path, i))


@functools.cache
def base_root() -> yaml.Node:
    root = yaml.compose(BASE)
    assert root is not None
    return root


def _replaced(node: yaml.Node, text: str) -> str:
    """BASE with the node's text replaced (the whitespace after a block node kept)."""
    start, end = node.start_mark.index, node.end_mark.index
    original = BASE[start:end]
    return BASE[:start] + text + original[len(original.rstrip()) :] + BASE[end:]


def _around(path: tuple[object, ...], node: yaml.Node, key: yaml.Node | None) -> frozenset[int]:
    """Lines an error about this node may point at: its own, its key's, its containers'."""
    lines = {node.start_mark.line + 1}
    if key is not None:
        lines.add(key.start_mark.line + 1)
    root = base_root()
    for depth in range(1, len(path)):
        for where, value, name in _nodes(root):
            if where == path[:depth]:
                lines.add(value.start_mark.line + 1)
                if name is not None:
                    lines.add(name.start_mark.line + 1)
    return frozenset(lines)


def wrong_types(rng: random.Random) -> Iterator[Case]:
    for path, node, key in _nodes(base_root()):
        kind = (
            "scalar"
            if isinstance(node, yaml.ScalarNode)
            else "mapping"
            if isinstance(node, yaml.MappingNode)
            else "sequence"
        )
        wrong = rng.choice(WRONG[kind])
        yield Case(
            "types",
            f"{'.'.join(map(str, path))}={wrong}",
            _replaced(node, wrong).encode(),
            _around(path, node, key),
        )


def odd_names(rng: random.Random) -> Iterator[Case]:
    """Every key that names an object, once with each of a few odd names."""
    named = ("tables", "columns", "indexes", "views", "functions", "triggers", "policies",
             "enums", "sequences", "checks", "unique", "labels", "materialized_views")  # fmt: skip
    for path, node, key in _nodes(base_root()):
        if len(path) < 2 or path[-2] not in named:
            continue
        target = key if key is not None else node
        for odd in rng.sample(ODD_NAMES, 2):
            start, end = target.start_mark.index, target.end_mark.index
            text = BASE[:start] + f'"{odd}"' + BASE[end:]
            # A new name leaves what named the old one dangling: errors of their own.
            yield Case("names", f"{'.'.join(map(str, path))}={odd}", text.encode(), single=False)


def smuggled_sql(rng: random.Random) -> Iterator[Case]:
    """Every SQL field, its value closed early to run a payload, in a few ways each."""
    for path, node, key in _nodes(base_root()):
        last = path[-1] if not isinstance(path[-1], int) else path[-2]
        if last not in SQL_FIELDS or not isinstance(node, yaml.ScalarNode):
            continue
        for shape in rng.sample(PAYLOADS, 2):
            value = shape.format(orig=node.value, payload=PAYLOAD)
            yield Case(
                "sql",
                f"{'.'.join(map(str, path))}:{shape[:12]}",
                _replaced(node, json.dumps(value)).encode(),
                _around(path, node, key),
            )


def huge_and_deep(rng: random.Random) -> Iterator[Case]:
    root = base_root()
    spots = [(p, n, k) for p, n, k in _nodes(root) if isinstance(n, yaml.ScalarNode)]
    for path, node, _ in rng.sample(spots, 3):
        big = json.dumps("x" * 1_000_000)
        yield Case("huge", f"megabyte-{'.'.join(map(str, path))}", _replaced(node, big).encode())
    for path, node, _ in rng.sample(spots, 3):
        depth = rng.choice((65, 200, 2000))
        deep = "[" * depth + "]" * depth
        yield Case(
            "huge",
            f"deep-{depth}-{'.'.join(map(str, path))}",
            _replaced(node, deep).encode(),
            refused=True,
        )
    labels = "[" + ", ".join(f"l{i}" for i in range(5_000)) + "]"
    yield Case("huge", "5000-labels", BASE.replace("[new, open, filled]", labels).encode())
    yield Case("huge", "one-long-line", (BASE + "x-long: " + "y" * 2_000_000 + "\n").encode())


def duplicate_keys(rng: random.Random) -> Iterator[Case]:
    lines = BASE.splitlines(keepends=True)
    single = [
        i
        for i, line in enumerate(lines[:-1])
        if re.match(r"\s*[^\s#-][^:]*:", line)
        and len(lines[i + 1]) - len(lines[i + 1].lstrip()) <= len(line) - len(line.lstrip())
    ]
    for i in rng.sample(single, 10):
        text = "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
        yield Case("duplicates", f"line-{i + 1}", text.encode(), frozenset({i + 2}), True)
    for spelling in (
        "{type: text, type: text, nullable: false}",
        "{type: text, nullable: false, nullable: false}",
    ):
        text = BASE.replace("{type: text, nullable: false}", spelling, 1)
        line = BASE[: BASE.index("{type: text, nullable: false}")].count("\n") + 1
        yield Case("duplicates", f"flow-{spelling}", text.encode(), frozenset({line}), True)


def alias_bombs(rng: random.Random) -> Iterator[Case]:
    for levels, width in ((9, 9), (rng.randint(4, 6), rng.randint(30, 60)), (30, 2)):
        lines = ["x-a: &a [" + ", ".join(["lol"] * width) + "]"]
        for i in range(1, levels):
            previous = "a" if i == 1 else f"l{i - 1}"
            lines.append(f"x-{i}: &l{i} [" + ", ".join([f"*{previous}"] * width) + "]")
        text = BASE + "\n".join(lines) + "\n"
        yield Case("aliases", f"laughs-{levels}x{width}", text.encode(), refused=True)
    merges = ["x-0: &m0 {k0: 1}"]
    for i in range(1, 40):
        merges.append(f"x-{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}")
    yield Case("aliases", "merge-fan", (BASE + "\n".join(merges) + "\n").encode(), refused=True)
    yield Case("aliases", "self", (BASE + "x-s: &s [*s]\n").encode(), refused=True)
    column = "x-col: &c {type: int4}\n"
    text = column + BASE.replace("{type: bigint}, venue", "*c, venue")
    yield Case("aliases", "column-by-alias", text.encode())


def truncated(rng: random.Random) -> Iterator[Case]:
    data = BASE.encode()
    cafe = data.index("☕".encode()) + 1  # inside the character's bytes
    for offset in sorted({cafe, *rng.sample(range(1, len(data)), 12)}):
        yield Case("truncated", f"at-{offset}", data[:offset])


def junk(rng: random.Random) -> Iterator[Case]:
    data = BASE.encode()
    for size in (1, 64, 4096):
        yield Case("junk", f"random-{size}", rng.randbytes(size))
    for _ in range(5):
        offset, size = rng.randrange(len(data)), rng.choice((1, 3, 40))
        yield Case(
            "junk",
            f"inserted-{size}-at-{offset}",
            data[:offset] + rng.randbytes(size) + data[offset:],
        )
    yield Case("junk", "nul-byte", data.replace(b"tables:", b"tab\x00les:"), refused=True)
    yield Case("junk", "ff-byte", data.replace(b"orders", b"ord\xffers", 1), refused=True)
    yield Case("junk", "elf-header", b"\x7fELF\x02\x01\x01" + bytes(57), refused=True)


def encodings(rng: random.Random) -> Iterator[Case]:
    yield Case("encodings", "utf-16-le-bom", b"\xff\xfe" + BASE.encode("utf-16-le"), refused=True)
    yield Case("encodings", "utf-16-be-bom", b"\xfe\xff" + BASE.encode("utf-16-be"), refused=True)
    yield Case("encodings", "utf-16-no-bom", BASE.encode("utf-16-le"), refused=True)
    yield Case("encodings", "utf-32", BASE.encode("utf-32"), refused=True)
    latin = BASE.replace("☕", "").encode("latin-1")
    yield Case("encodings", "latin-1", latin, frozenset({6}), refused=True)
    yield Case(
        "encodings",
        "cp1252-quotes",
        BASE.replace("☕", "").encode("cp1252")[:200] + b"\x93x\x94\n",
        refused=True,
    )


def special_files(rng: random.Random) -> Iterator[Case]:
    def directory(where: Path) -> None:
        (where / "schema.yaml").mkdir()

    def directory_of_directory(where: Path) -> None:
        (where / "schema.yaml" / "inner.yaml").mkdir(parents=True)

    def unreadable(where: Path) -> None:
        (where / "schema.yaml").write_text(BASE)
        (where / "schema.yaml").chmod(0)

    def link_loop(where: Path) -> None:
        (where / "schema.yaml").symlink_to("schema.yaml")

    for maker in (directory, directory_of_directory, unreadable, link_loop):
        yield Case("special", maker.__name__, refused=True, make=maker)


FAMILIES: dict[str, Callable[[random.Random], Iterator[Case]]] = {
    "types": wrong_types,
    "names": odd_names,
    "sql": smuggled_sql,
    "huge": huge_and_deep,
    "duplicates": duplicate_keys,
    "aliases": alias_bombs,
    "truncated": truncated,
    "junk": junk,
    "encodings": encodings,
    "special": special_files,
}


@functools.cache
def cases(family: str) -> tuple[Case, ...]:
    return tuple(FAMILIES[family](random.Random(f"{SEED}-{family}")))


# --- the judge ---------------------------------------------------------------------------

# In-process, the path is the project's absolute one.
FILE_LINE = re.compile(r"^(?:/\S*/)?schema\.yaml:(\d+):(\d+): \S")
FILE_ONLY = re.compile(r"^(?:/\S*/)?schema\.yaml(?:/\S*)?: \S")


def verdict(case: Case, command: str, code: int, stdout: str, stderr: str) -> str | None:
    """None when the answer is clean, else what is wrong with it."""
    text = stdout + stderr
    if "Traceback" in text:
        return "traceback"
    if code == 0:
        return "accepted" if case.refused else None
    if code != 1:
        return f"exit {code}"
    lines = stderr.strip().splitlines()
    if len(lines) != 1 and (case.single or not all(FILE_LINE.match(x) for x in lines)):
        return f"{len(lines)} lines"
    line = lines[0]
    if len(line) > 2000:
        return f"a line of {len(line)} characters"
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line):
        return "a control character in the message"
    found = FILE_LINE.match(line)
    if found is None:
        if command == "plan" and line.startswith("mmschema: "):
            return None  # a file validate accepts may still fail against the target
        if case.name == "link_loop" and "symbolic link" in line:
            return None
        if case.family in ("special", "encodings", "junk", "huge") and FILE_ONLY.match(line):
            return None  # the whole file is at fault
        return "no file:line:column"
    if case.lines and int(found[1]) not in case.lines and command == "validate":
        return f"line {found[1]}, not one of {sorted(case.lines)}"
    return None


def timed(run: Callable[[], Result]) -> Result | None:
    box: list[Result] = []
    worker = threading.Thread(target=lambda: box.append(run()), daemon=True)
    worker.start()
    worker.join(SECONDS)
    return box[0] if box else None


def state_of(db: str, scratch: str) -> tuple[object, ...]:
    relations = "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname !~ '^(pg_|information_schema)' ORDER BY 1, 2"  # noqa: E501
    return (
        query(db, relations),
        query(scratch, relations),
        query(db, "SELECT md5(string_agg(id::text, ',' ORDER BY id)) FROM data"),
        query(db, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'mmschema\\_pwned%'"),
    )


@pytest.fixture
def target(db: str) -> str:
    run_sql(db, TARGET_DATA)
    return db


def shown(case: Case, command: str, problem: str, output: str) -> str:
    return f"{case.family}/{case.name!r} {command}: {problem}\n    {output.strip()[:400]!r}"


@pytest.mark.parametrize(("family", "shell"), taking_turns(FAMILIES), indirect=["shell"])
def test_generated_hostile_files(shell: Shell, target: str, scratch_dsn: str, family: str) -> None:
    before = state_of(target, scratch_dsn)
    work = shell.project
    problems: list[str] = []
    accepted: list[Case] = []
    generated = cases(family)
    assert len(generated) >= 4, generated
    if family != "special":  # in-process, as root: a mode 000 file reads fine
        for case in generated:
            case.write(work)
            result = timed(functools.partial(run_cli, ["validate"], work))
            if result is None:
                problems.append(shown(case, "validate", "hang", ""))
                continue
            problem = verdict(case, "validate", result.code, result.stdout, result.stderr)
            if problem:
                problems.append(shown(case, "validate", problem, result.stderr))
            elif result.code == 0:
                accepted.append(case)
        for case in random.Random(SEED).sample(accepted, min(PLANNED, len(accepted))):
            case.write(work)
            args = ["plan", "-d", target, "--dev-database", scratch_dsn]
            result = timed(functools.partial(run_cli, args, work))
            if result is None:
                problems.append(shown(case, "plan", "hang", ""))
                continue
            problem = verdict(case, "plan", result.code, result.stdout, result.stderr)
            if problem:
                problems.append(shown(case, "plan", problem, result.stdout + result.stderr))
    outside = (
        list(generated)
        if family == "special"
        else random.Random(SEED).sample(list(generated), min(SAMPLE, len(generated)))
    )
    for case in outside:
        if case.make is not None and case.name == "unreadable" and shell.user.is_root:
            continue  # root reads a mode 000 file
        problems += run_outside(shell, case, target, scratch_dsn)
    assert state_of(target, scratch_dsn) == before
    assert not problems, "\n".join(problems)


def run_outside(shell: Shell, case: Case, target: str, scratch: str) -> list[str]:
    """`validate` and `plan -d` of the installed command, in a project of their own."""
    project = shell.elsewhere(f"case-{secrets.token_hex(4)}")
    case.write(project.project)
    if os.geteuid() == 0 and not shell.user.is_root:
        path = project.project / "schema.yaml"
        if path.exists() or path.is_symlink():
            os.lchown(path, shell.user.uid, shell.user.gid)
    commands = (["validate"], ["plan", "-d", target, "--dev-database", scratch])
    problems = []
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda c: project.run(*c, timeout=SECONDS), commands))
    for command, outcome in zip(commands, outcomes, strict=True):
        problem = verdict(case, command[0], outcome.code, outcome.stdout, outcome.stderr)
        if problem:
            problems.append(shown(case, f"installed {command[0]}", problem, outcome.output))
    return problems


def test_the_families_are_generated_the_same_each_time() -> None:
    for family, make in FAMILIES.items():
        again = tuple(make(random.Random(f"{SEED}-{family}")))
        assert [c.name for c in again] == [c.name for c in cases(family)]
    assert sum(len(cases(f)) for f in FAMILIES) >= 300


def test_a_line_number_is_not_read_as_an_emoji(shell: Shell) -> None:
    """rich turned `:100:` of `schema.yaml:100:19:` into an emoji."""
    columns = "".join(f"      c{i}: {{type: int4}}\n" for i in range(95))
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n" + columns + "      bad: {type: 5}\n",
    )
    outcome = shell.run("validate")
    assert outcome.code == 1
    assert outcome.stderr.startswith("schema.yaml:100:"), outcome.stderr
