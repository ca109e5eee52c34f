"""The type-change phase of bench.online_apply: fills.id int to bigint (a primary key that
fill_fees references, whose column changes too) and fills.price numeric to double
precision, under steady writes; mmschema's online change against the plain ALTER."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

SETUP = """
CREATE TABLE fills (
    id          serial PRIMARY KEY,
    sessionid   text NOT NULL,
    symbol      text,
    "timestamp" bigint NOT NULL,
    price       numeric NOT NULL,
    size        numeric,
    fee         numeric DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE fill_fees (
    id       serial PRIMARY KEY,
    fill_id  integer NOT NULL REFERENCES fills (id),
    amount   numeric NOT NULL
);
"""


def grow_sql(rows: int) -> list[str]:
    fees = max(100, rows // 10)
    return [
        f"""INSERT INTO fills (sessionid, symbol, "timestamp", price, size, fee)
            SELECT 'bs-' || (g % 1000), (ARRAY['BTC/USD', 'ETH/USD', 'SOL/USD'])[1 + g % 3],
                   1720000000000 + g, round((100 + (g % 5000) * 0.25)::numeric, 8),
                   0.1 + (g % 7) * 0.01, 0.0001 * (g % 100)
            FROM generate_series(1, {rows}) AS g""",
        f"""INSERT INTO fill_fees (fill_id, amount)
            SELECT 1 + (g * 7) % {rows}, 0.01 * (g % 50) FROM generate_series(1, {fees}) AS g""",
        "CREATE INDEX idx_fills_session ON fills (sessionid)",
        "CREATE INDEX idx_fills_symbol_price ON fills (symbol, price)",
        "CREATE INDEX idx_fill_fees_fill ON fill_fees (fill_id)",
        "VACUUM ANALYZE fills",
        "VACUUM ANALYZE fill_fees",
    ]


SCHEMA = """\
version: 1
tables:
  fills:
    columns:
      id:          {type: bigserial, nullable: false}
      sessionid:   {type: text, nullable: false}
      symbol:      {type: text}
      timestamp:   {type: bigint, nullable: false}
      price:       {type: double precision, nullable: false}
      size:        {type: numeric}
      fee:         {type: numeric, default: 0}
      created_at:  {type: timestamptz, nullable: false, default: "now()"}
    primary_key: [id]
    indexes:
      idx_fills_session:      {columns: [sessionid]}
      idx_fills_symbol_price: {columns: [symbol, price]}
  fill_fees:
    columns:
      id:      {type: serial, nullable: false}
      fill_id: {type: bigint, nullable: false}
      amount:  {type: numeric, nullable: false}
    primary_key: [id]
    indexes:
      idx_fill_fees_fill: {columns: [fill_id]}
    foreign_keys:
      fill_fees_fill_id_fkey: {columns: [fill_id], references: {table: fills, columns: [id]}}
"""

PLAIN_DDL = [
    "ALTER TABLE fills ALTER COLUMN id TYPE bigint, ALTER COLUMN price TYPE double precision",
    "ALTER SEQUENCE fills_id_seq AS bigint",
    "ALTER TABLE fill_fees ALTER COLUMN fill_id TYPE bigint",
]

# What must not change: the rows there were, and their values (writers only add rows and
# touch size and fee).
CHECKSUM = (
    "SELECT count(*), round(sum(price)::numeric, 2), sum(id)::numeric,"
    " (SELECT count(*) FROM fill_fees WHERE id <= %(fees)s),"
    " (SELECT sum(fill_id)::numeric FROM fill_fees WHERE id <= %(fees)s)"
    " FROM fills WHERE id <= %(rows)s"
)


def write_schema(workdir: Path, method: str = "copy") -> Path:
    path = workdir / "retype.yaml"
    settings = f"settings: {{online_type_change_method: {method}}}\n"
    path.write_text(SCHEMA.replace("version: 1\n", "version: 1\n" + settings, 1))
    return path


def plain_ddl(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True, application_name="bench-plain-ddl") as conn:
        for statement in PLAIN_DDL:
            conn.execute(statement.encode())


def checksum(dsn: str, rows: int) -> tuple[Any, ...]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = conn.execute(CHECKSUM, {"rows": rows, "fees": max(100, rows // 10)}).fetchone()
    assert found is not None
    return tuple(found)


def retype_ops(
    phase: int, fills: int, number: int, conn: psycopg.Connection[Any], rng: random.Random
) -> list[Callable[[int], object]]:
    """Writers on fills and fill_fees: insert a fill, insert a fee for a random fill,
    update a fill's size, update a fill's fee."""

    def insert_fill(i: int) -> object:
        return conn.execute(
            'INSERT INTO fills (sessionid, symbol, "timestamp", price, size)'
            " VALUES (%s, 'BTC/USD', %s, 101.25, 1)",
            (f"w{phase}-{number}", 1900000000000 + i),
        )

    def insert_fee(i: int) -> object:
        return conn.execute(
            "INSERT INTO fill_fees (fill_id, amount) VALUES (%s, 0.5)", (rng.randint(1, fills),)
        )

    def update_size(i: int) -> object:
        return conn.execute(
            "UPDATE fills SET size = size + 1 WHERE id = %s", (rng.randint(1, fills),)
        )

    def update_fee(i: int) -> object:
        return conn.execute(
            "UPDATE fills SET fee = fee + 0.0001 WHERE id = %s", (rng.randint(1, fills),)
        )

    return [insert_fill, insert_fee, update_size, update_fee]
