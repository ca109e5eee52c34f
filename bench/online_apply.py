"""What a running application feels while the market-maker migration is applied.

    .venv/bin/python -m bench.online_apply [--rows 2000000] [--major 17] [--writers 4]

Loads examples/market-maker/before.sql into a throwaway server, grows `fills` to --rows
(orders to rows/4, sessions to rows/20; no duplicate fills, so the unique dedup index
builds), and copies that database. Writer threads then run a steady, paced load of
inserts and updates on sessions, orders and fills (each op timed) in three phases:

  baseline  no DDL
  mmschema  `mmschema apply --yes -f examples/market-maker/schema.yaml` on the database
  plain     the same DDL run plainly on the copy: ALTER TABLE ADD COLUMN, one UPDATE per
            backfill, CREATE INDEX without CONCURRENTLY, no timeouts

and reports the writers' throughput, p99 latency and longest stall (slowest op) per phase,
with each apply's ratios to the baseline.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench._common import ROOT, create_database, print_table, run_script, throwaway_server
from bench.waits import WaitSampler
from mmschema.localserver import LocalServer

EXAMPLE = ROOT / "examples" / "market-maker"
BASE_DB = "mm_apply"
PLAIN_DB = "mm_plain"
SCRATCH_DB = "mm_scratch"
SYMBOLS = "ARRAY['BTC/USD', 'ETH/USD', 'SOL/USD', 'ETH/BTC']"
WRITER_STATEMENT_TIMEOUT = "300s"
DDL_TIME_LIMIT_S = 300.0
SETTLE_S = 2.0

# The migration as a hand-written script would run it (migrations 001 and 002 of the seed).
PLAIN_DDL = [
    "ALTER TABLE sessions ADD COLUMN pairs jsonb NOT NULL DEFAULT '[]'::jsonb",
    "UPDATE sessions SET pairs = jsonb_build_array(symbol) WHERE symbol IS NOT NULL",
    "ALTER TABLE sessions ADD COLUMN pair_count integer NOT NULL DEFAULT 0",
    "UPDATE sessions SET pair_count = CASE WHEN symbol IS NULL THEN 0 ELSE 1 END",
    "ALTER TABLE orders ADD COLUMN pair_index integer NOT NULL DEFAULT 0",
    "CREATE INDEX idx_sessions_pair_count ON sessions (pair_count)",
    "CREATE INDEX idx_sessions_pairs_gin ON sessions USING gin (pairs)",
    "CREATE INDEX idx_sessions_settlement_discovery ON sessions (startedat)"
    " WHERE settlesession = true AND (settledcomplete IS NULL OR settledcomplete = false)",
    "CREATE INDEX idx_orders_session_symbol ON orders (sessionid, symbol)",
    "CREATE INDEX idx_orders_symbol_status ON orders (symbol, status)",
    "CREATE INDEX idx_fills_session_symbol ON fills (sessionid, symbol)",
    "CREATE INDEX idx_fills_session_order_symbol ON fills (sessionid, orderid, symbol)",
    "CREATE UNIQUE INDEX idx_fills_unique_dedup ON fills"
    ' (sessionid, orderid, symbol, "timestamp", price, COALESCE(size, amount))',
    'CREATE INDEX idx_fills_symbol_timestamp ON fills (symbol, "timestamp" DESC)',
]


def grow_sql(rows: int) -> list[str]:
    sessions, orders = max(100, rows // 20), max(100, rows // 4)
    return [
        f"""INSERT INTO sessions (id, symbol, strategy, status, startedat, endedat,
                settlesession, settledcomplete, initial_balance, realized_pnl, config)
            SELECT 'bs-' || g,
                   CASE WHEN g % 6 = 0 THEN NULL ELSE ({SYMBOLS})[1 + g % 4] END,
                   CASE WHEN g % 3 = 0 THEN 'avellaneda' ELSE 'grid' END,
                   CASE WHEN g % 10 = 0 THEN 'active' ELSE 'stopped' END,
                   1720000000000 + g * 60000, 1720000000000 + g * 60000 + 30000,
                   g % 2 = 0, CASE WHEN g % 4 = 0 THEN true WHEN g % 4 = 2 THEN false END,
                   10000 + g % 1000, round((g % 977) * 1.37, 8),
                   jsonb_build_object('spread_bps', 5 + g % 5, 'levels', 3 + g % 3)
            FROM generate_series(1::bigint, {sessions}) AS g""",
        f"""INSERT INTO orders (id, sessionid, symbol, side, order_type, price, size,
                filled_size, status, exchange_order_id)
            SELECT 'bo-' || g, 'bs-' || (1 + g % {sessions}), ({SYMBOLS})[1 + g % 4],
                   CASE WHEN g % 2 = 0 THEN 'sell' ELSE 'buy' END,
                   CASE WHEN g % 7 = 0 THEN 'market' ELSE 'limit' END,
                   round((100 + (g % 5000) * 0.25)::numeric, 8), 0.5 + (g % 5) * 0.1,
                   CASE WHEN g % 3 = 0 THEN 0 ELSE 0.5 + (g % 5) * 0.1 END,
                   CASE WHEN g % 3 = 0 THEN 'open' ELSE 'filled' END,
                   CASE WHEN g % 4 = 0 THEN NULL ELSE 'bx-' || g END
            FROM generate_series(1::bigint, {orders}) AS g""",
        # "timestamp" is unique per row: no duplicates under the unique dedup index.
        f"""INSERT INTO fills (sessionid, orderid, symbol, side, "timestamp", price, size,
                amount, fee, fee_currency)
            SELECT 'bs-' || (1 + (g % {orders}) % {sessions}), 'bo-' || (1 + g % {orders}),
                   ({SYMBOLS})[1 + (g % {orders}) % 4],
                   CASE WHEN g % 2 = 0 THEN 'sell' ELSE 'buy' END,
                   1720000000000 + g, round((100 + (g % 5000) * 0.25)::numeric, 8),
                   CASE WHEN g % 2 = 0 THEN 0.1 + (g % 7) * 0.01 END,
                   CASE WHEN g % 2 = 1 THEN 0.1 + (g % 7) * 0.01 END,
                   0.0001 * (g % 100), 'USD'
            FROM generate_series(1::bigint, {rows}) AS g""",
        "VACUUM ANALYZE sessions",
        "VACUUM ANALYZE orders",
        "VACUUM ANALYZE fills",
    ]


@dataclass
class Sample:
    started: float
    latency: float
    ok: bool


@dataclass
class Load:
    """Writer threads, each paced to `rate` ops/s, cycling through six kinds of write."""

    dsn: str
    writers: int
    rate: float
    sessions: int
    orders: int
    phase: int
    max_seconds: float
    # New sessions' symbols. The default, NULL only, keeps the example's assertion true
    # while the writers run: an old-app row with a symbol, inserted after a backfill
    # passed, keeps the new column's default (see --old-app-symbols).
    symbols: tuple[str | None, ...] = (None,)
    # Another workload: (phase, rows, writer number, connection, rng) -> its operations.
    workload: Callable[..., list[Callable[[int], object]]] | None = None
    samples: list[list[Sample]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    started: float = 0.0
    stopped: float = 0.0

    def start(self) -> None:
        self.started = time.perf_counter()
        conns = [self._connect() for _ in range(self.writers)]
        for number, conn in enumerate(conns):
            bucket: list[Sample] = []
            self.samples.append(bucket)
            thread = threading.Thread(target=self._run, args=(number, conn, bucket), daemon=True)
            self.threads.append(thread)
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=float(WRITER_STATEMENT_TIMEOUT.rstrip("s")) + 10)
        self.stopped = time.perf_counter()

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.dsn, autocommit=True, application_name="bench-writer")
        conn.execute(f"SET statement_timeout = '{WRITER_STATEMENT_TIMEOUT}'")
        return conn

    def _run(self, number: int, conn: psycopg.Connection[Any], out: list[Sample]) -> None:
        rng = random.Random(self.phase * 100 + number)
        ops = self._ops(number, conn, rng)
        interval = 1.0 / self.rate
        deadline = self.started + self.max_seconds
        limit = int(self.rate * self.max_seconds) + 1
        next_at = time.perf_counter()
        try:
            for i in range(limit):
                now = time.perf_counter()
                if self.stop.is_set() or now >= deadline:
                    break
                if next_at > now:
                    time.sleep(next_at - now)
                elif now - next_at > 1.0:  # after a stall, do not burst to catch up
                    next_at = now
                next_at += interval
                began = time.perf_counter()
                ok = True
                try:
                    ops[i % len(ops)](i)
                except psycopg.Error as error:
                    ok = False
                    self.errors.append(f"writer {number}: {type(error).__name__}: {error}")
                out.append(Sample(began, time.perf_counter() - began, ok))
        finally:
            conn.close()

    def _ops(
        self, number: int, conn: psycopg.Connection[Any], rng: random.Random
    ) -> list[Callable[[int], object]]:
        if self.workload is not None:
            return self.workload(self.phase, self.sessions, number, conn, rng)
        prefix = f"w{self.phase}-{number}-"

        def insert_session(i: int) -> object:
            return conn.execute(
                "INSERT INTO sessions (id, symbol, startedat) VALUES (%s, %s, %s)",
                (f"{prefix}s{i}", rng.choice(self.symbols), 1730000000000 + i),
            )

        def update_session(i: int) -> object:
            return conn.execute(
                "UPDATE sessions SET updated_at = now(), realized_pnl = realized_pnl + 1"
                " WHERE id = %s",
                (f"bs-{rng.randint(1, self.sessions)}",),
            )

        def insert_order(i: int) -> object:
            return conn.execute(
                "INSERT INTO orders (id, sessionid, symbol, side, price, size, exchange_order_id)"
                " VALUES (%s, %s, 'BTC/USD', 'buy', 100, 1, %s)",
                (f"{prefix}o{i}", f"bs-{rng.randint(1, self.sessions)}", f"{prefix}x{i}"),
            )

        def update_order(i: int) -> object:
            return conn.execute(
                "UPDATE orders SET filled_size = size, status = 'filled', updated_at = now()"
                " WHERE id = %s",
                (f"bo-{rng.randint(1, self.orders)}",),
            )

        def insert_fill(i: int) -> object:
            return conn.execute(
                'INSERT INTO fills (sessionid, orderid, symbol, side, "timestamp", price, size)'
                " VALUES (%s, %s, 'BTC/USD', 'buy', %s, 100, 1)",
                (
                    f"bs-{rng.randint(1, self.sessions)}",
                    f"bo-{rng.randint(1, self.orders)}",
                    1900000000000 + self.phase * 10**10 + number * 10**8 + i,
                ),
            )

        def update_fill(i: int) -> object:
            return conn.execute(
                "UPDATE fills SET fee = fee + 0.0001 WHERE id = %s",
                (rng.randint(1, 4 * self.orders),),
            )

        return [
            insert_session,
            update_session,
            insert_order,
            update_order,
            insert_fill,
            update_fill,
        ]


@dataclass
class PhaseResult:
    name: str
    ops: int
    seconds: float
    p50: float
    p99: float
    longest: float
    errors: int
    ddl_seconds: float

    @property
    def throughput(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


def summarize(name: str, load: Load, ddl_seconds: float) -> PhaseResult:
    samples = [s for bucket in load.samples for s in bucket]
    latencies = sorted(s.latency for s in samples)
    if not latencies:
        raise SystemExit(f"phase {name}: the writers recorded nothing")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return PhaseResult(
        name,
        sum(1 for s in samples if s.ok),
        load.stopped - load.started,
        statistics.median(latencies),
        p99,
        latencies[-1],
        sum(1 for s in samples if not s.ok),
        ddl_seconds,
    )


def run_phase(
    phase: int,
    name: str,
    args: argparse.Namespace,
    dsn: str,
    sizes: tuple[int, int],
    ddl: Callable[[], None] | None,
    workload: Callable[..., list[Callable[[int], object]]] | None = None,
) -> PhaseResult:
    limit = args.ddl_limit + 2 * SETTLE_S
    load = Load(dsn, args.writers, args.rate, sizes[0], sizes[1], phase, limit)
    load.workload = workload
    if args.old_app_symbols:
        load.symbols = ("BTC/USD", "ETH/USD", None)
    # The writers' samples pile up as long-lived objects: the cyclic collector's full
    # passes over them paused every thread of this process (writers and sampler alike)
    # for about 300 ms about 100 s into each long phase on the loaded machine. Nothing
    # here makes reference cycles, so it is off while the writers run.
    gc.collect()
    gc.disable()
    load.start()
    sampler = WaitSampler(dsn) if ddl is not None else None
    if sampler is not None:
        sampler.start()
    ddl_seconds = 0.0
    began = time.perf_counter()  # the DDL's start, once it runs
    try:
        if ddl is None:
            time.sleep(args.baseline_seconds)
        else:
            time.sleep(SETTLE_S)
            began = time.perf_counter()
            ddl()
            ddl_seconds = time.perf_counter() - began
            time.sleep(SETTLE_S)
    finally:
        load.finish()
        if sampler is not None:
            sampler.finish()
        gc.enable()
    for error in load.errors[:3]:
        print(f"  [{name}] {error.splitlines()[0]}")
    result = summarize(name, load, ddl_seconds)
    print(f"  {name}: {result.ops} ops in {result.seconds:.1f}s, ddl {ddl_seconds:.1f}s")
    if ddl is not None:
        worst = max((s for bucket in load.samples for s in bucket), key=lambda s: s.latency)
        print(
            f"  {name}: longest stall {worst.latency * 1000:.0f} ms, began "
            f"{worst.started - began:.1f}s into the DDL"
        )
    if sampler is not None:
        print(
            f"  {name}: longest waits seen ({sampler.samples} samples of pg_stat_activity; "
            f"longest gap between samples {sampler.gap * 1000:.0f} ms, "
            f"{sampler.gap_at - began:.1f}s into the DDL):"
        )
        for wait in sampler.longest():
            print(
                f"    {wait.milliseconds:.0f} ms {wait.event} [{wait.query}]"
                f" blocked by: {wait.blockers or '-'}"
            )
    return result


def mmschema_cmd(*args: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "mmschema"), *args]


APPLY_OUTCOME: list[int] = []


def mmschema_apply(
    dsn: str,
    scratch: str,
    workdir: Path,
    schema: Path = EXAMPLE / "schema.yaml",
    limit: float = DDL_TIME_LIMIT_S,
) -> None:
    done = subprocess.run(
        mmschema_cmd(
            "apply",
            "--yes",
            "-f",
            str(schema),
            "-d",
            dsn,
            "--dev-database",
            scratch,
        ),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=limit,
        check=False,
    )
    APPLY_OUTCOME.append(done.returncode)
    # where the time went: the steps that took a second or more, and the backfills
    retries = []
    for line in done.stdout.splitlines() + done.stderr.splitlines():
        slow = line.startswith("changed:") and _seconds(line) >= 1.0
        if "lock timeout, retry" in line:
            retries.append(line)
        elif line.startswith(("backfill ", "copy ")) or slow:
            print(f"    {line[:160]}")
    if retries:
        print(f"    {len(retries)} lock timeouts retried, the first ones:")
        for line in retries[:3]:
            print(f"      {line[:300]}")
    if done.returncode != 0:
        wanted = ("RECAP", "backfill", "assertion", "mmschema:", "failed")
        lines = [
            line
            for line in done.stdout.splitlines() + done.stderr.splitlines()
            if any(word in line for word in wanted)
        ]
        print(f"  mmschema apply exited {done.returncode}:")
        for line in lines[-8:]:
            print(f"    {line[:200]}")


def _seconds(line: str) -> float:
    """The seconds a `changed: [...] object (1.23s)` line reports (0 when none)."""
    tail = line.rsplit("(", 1)[-1].rstrip(")s")
    try:
        return float(tail)
    except ValueError:
        return 0.0


def plain_ddl(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True, application_name="bench-plain-ddl") as conn:
        for statement in PLAIN_DDL:
            conn.execute(statement.encode())


def plans_empty(
    dsn: str, scratch: str, workdir: Path, schema: Path = EXAMPLE / "schema.yaml"
) -> str:
    done = subprocess.run(
        mmschema_cmd(
            "plan",
            "--detailed-exitcode",
            "-f",
            str(schema),
            "-d",
            dsn,
            "--dev-database",
            scratch,
        ),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return {0: "yes", 2: "no (changes left)"}.get(done.returncode, f"error {done.returncode}")


def build(server: LocalServer, rows: int) -> tuple[str, str, str]:
    dsn = create_database(server, BASE_DB)
    run_script(dsn, (EXAMPLE / "before.sql").read_text())
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in grow_sql(rows):
            conn.execute(statement.encode())
    plain = create_database(server, PLAIN_DB, template=BASE_DB)
    scratch = create_database(server, SCRATCH_DB)
    return dsn, plain, scratch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.online_apply", description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows in fills")
    parser.add_argument("--major", type=int, default=17, help="PostgreSQL major (14-18)")
    parser.add_argument("--writers", type=int, default=4, help="writer threads")
    parser.add_argument("--rate", type=float, default=50.0, help="ops/s per writer")
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    parser.add_argument(
        "--phases",
        default="market-maker,type-change",
        help="comma-separated: market-maker (the example's migration), type-change "
        "(fills.id int to bigint and price numeric to double precision)",
    )
    parser.add_argument(
        "--old-app-symbols",
        action="store_true",
        help="writers insert sessions with a symbol (and no pairs), as the old app would",
    )
    parser.add_argument(
        "--method",
        choices=("copy", "shadow"),
        default="copy",
        help="the type-change phase's settings.online_type_change_method",
    )
    parser.add_argument(
        "--ddl-limit",
        type=float,
        default=DDL_TIME_LIMIT_S,
        help="seconds an apply may take (and the writers run beside it); raise for 5M rows",
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="mmschema-bench-apply-"))
    settings = {"max_wal_size": "'4GB'", "shared_buffers": "'256MB'"}
    try:
        with throwaway_server(args.major, settings) as server:
            return run(server, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(server: LocalServer, args: argparse.Namespace, workdir: Path) -> int:
    print(
        f"PostgreSQL {server.version}, fills={args.rows}, {os.cpu_count()} cores, "
        f"{args.writers} writers x {args.rate:g} ops/s"
    )
    ok = True
    if "market-maker" in args.phases:
        ok = market_maker(server, args, workdir) and ok
    if "type-change" in args.phases:
        ok = type_change(server, args, workdir) and ok
    return 0 if ok else 1


def market_maker(server: LocalServer, args: argparse.Namespace, workdir: Path) -> bool:
    """The market-maker migration: mmschema apply against the plain DDL."""
    began = time.perf_counter()
    dsn, plain, scratch = build(server, args.rows)
    sizes = (max(100, args.rows // 20), max(100, args.rows // 4))
    print(f"market-maker migration: data loaded and copied in {time.perf_counter() - began:.1f}s")
    baseline = run_phase(1, "baseline (no DDL)", args, dsn, sizes, None)
    applied = run_phase(
        2,
        "mmschema apply",
        args,
        dsn,
        sizes,
        lambda: mmschema_apply(dsn, scratch, workdir, limit=args.ddl_limit),
    )
    plainly = run_phase(3, "plain DDL", args, plain, sizes, lambda: plain_ddl(plain))
    converged = plans_empty(dsn, scratch, workdir)
    plain_same = plans_empty(plain, scratch, workdir)
    report(args, baseline, applied, plainly)
    print(
        f"(plan after mmschema apply empty: {converged}; plan after plain DDL empty: {plain_same})"
    )
    print(f"mmschema apply exit status: {APPLY_OUTCOME[-1] if APPLY_OUTCOME else 'not run'}")
    return converged == "yes" and applied.errors == 0 and APPLY_OUTCOME[-1:] == [0]


def type_change(server: LocalServer, args: argparse.Namespace, workdir: Path) -> bool:
    """fills.id int to bigint (referenced by fill_fees.fill_id, which follows) and
    fills.price numeric to double precision: mmschema's online change against plain ALTER."""
    from bench import retype_phase as rt

    began = time.perf_counter()
    dsn = create_database(server, "tc_apply")
    run_script(dsn, rt.SETUP)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in rt.grow_sql(args.rows):
            conn.execute(statement.encode())
    plain = create_database(server, "tc_plain", template="tc_apply")
    scratch = create_database(server, "tc_scratch")
    schema = rt.write_schema(workdir, args.method)
    before = rt.checksum(dsn, args.rows)
    print(
        f"\ntype change: fills={args.rows}, fill_fees={max(100, args.rows // 10)}; loaded and "
        f"copied in {time.perf_counter() - began:.1f}s"
    )
    sizes = (args.rows, args.rows)
    phases = [
        run_phase(4, "baseline (no DDL)", args, dsn, sizes, None, rt.retype_ops),
        run_phase(
            5,
            "mmschema apply",
            args,
            dsn,
            sizes,
            lambda: mmschema_apply(dsn, scratch, workdir, schema, args.ddl_limit),
            rt.retype_ops,
        ),
        run_phase(6, "plain ALTER", args, plain, sizes, lambda: rt.plain_ddl(plain), rt.retype_ops),
    ]
    converged = plans_empty(dsn, scratch, workdir, schema)
    plain_same = plans_empty(plain, scratch, workdir, schema)
    after, after_plain = rt.checksum(dsn, args.rows), rt.checksum(plain, args.rows)
    report(args, *phases)
    applied, plainly = phases[1], phases[2]
    print(
        f"stall mmschema / plain = 1/{plainly.longest / applied.longest:.0f}; "
        f"DDL time mmschema / plain = {applied.ddl_seconds / plainly.ddl_seconds:.1f}x"
    )
    print(
        f"(plan after mmschema apply empty: {converged}; after plain ALTER: {plain_same}; "
        f"rows and sums of the rows there were unchanged: mmschema {after == before}, "
        f"plain {after_plain == before})"
    )
    print(f"mmschema apply exit status: {APPLY_OUTCOME[-1] if APPLY_OUTCOME else 'not run'}")
    return (
        converged == "yes" and after == before and applied.errors == 0 and APPLY_OUTCOME[-1:] == [0]
    )


def report(
    args: argparse.Namespace, baseline: PhaseResult, applied: PhaseResult, plainly: PhaseResult
) -> None:
    print()
    rows = [
        [
            r.name,
            f"{r.ddl_seconds:.1f}s" if r.ddl_seconds else "-",
            f"{r.ops}",
            f"{r.throughput:.0f}/s",
            f"{r.p50 * 1000:.1f} ms",
            f"{r.p99 * 1000:.1f} ms",
            f"{r.longest * 1000:.0f} ms",
            str(r.errors),
        ]
        for r in (baseline, applied, plainly)
    ]
    print_table(
        ["phase", "DDL time", "writes", "throughput", "p50", "p99", "longest stall", "errors"],
        rows,
    )
    print()
    for r in (applied, plainly):
        print(
            f"{r.name:15s} p99 / baseline = {r.p99 / baseline.p99:7.1f}x   "
            f"longest stall / baseline = {r.longest / baseline.longest:7.1f}x   "
            f"throughput / baseline = {r.throughput / baseline.throughput:.2f}"
        )
    print(f"(offered load {args.writers * args.rate:g} ops/s)")


if __name__ == "__main__":
    sys.exit(main())
