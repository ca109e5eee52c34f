"""Random before/after schema pairs, each judged by the referee: does mmschema converge it?

    .venv/bin/python -m bench.pairgen --pairs 2000 [--seed 1] [--major 17] [--keep DIR]
    .venv/bin/python -m bench.pairgen --only 11000048,11000095   # judge these pairs again

A pair is two schemas of a few tables: `before`, and `after` made from it by a handful of
random edits (tables and columns added, dropped and renamed, types changed, defaults, NOT
NULL, checks, unique and foreign keys, indexes of every method, partitions, identity and
serial columns, identity options). The referee loads `before` into database A and `after`
into B (some rows in both), takes `mmschema dump` of B as the file (plus `state: absent`
for tables only A has and `renamed_from` for the renames the edits made), runs
`apply --prune` on A with every hazard allowed, and requires a second plan to be empty
and `pg_dump --schema-only` of A and B to be equal (column order within a table aside:
a column mmschema adds again goes last). The outcome of a pair is the first of bad-pair
(PostgreSQL refused the generated SQL), dump-failed, apply-failed, not-converged,
pgdump-differs and ok. Same seed, same pairs.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml

from bench._common import create_database, run_cli, run_script, throwaway_server
from mmschema.localserver import LocalServer

ALLOW = "destructive,rewrite,blocking,long_running,may_fail"
PG_DUMP_NOISE = re.compile(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict |\\unrestrict )")

# type -> (sample value, defaults, checks (with {c}), types it may change to)
TYPES: dict[str, tuple[str, list[str], list[str], list[str]]] = {
    "integer": (
        "7",
        ["0", "42"],
        ["{c} > 0", "{c} >= 0 AND {c} < 1000"],
        ["bigint", "numeric(12,2)", "text"],
    ),
    "bigint": ("8", ["0", "-1"], ["{c} <> 13"], ["integer", "numeric", "text"]),
    "smallint": ("3", ["1"], ["{c} BETWEEN 0 AND 100"], ["integer", "bigint"]),
    "text": (
        "'abc'",
        ["''", "'x'"],
        ["length({c}) < 100", "{c} IN ('abc', 'def')"],
        ["varchar(50)", "varchar(200)"],
    ),
    "varchar(10)": (
        "'a'",
        ["'a'"],
        ["{c} IN ('a', 'pending', 'shipped')", "{c} <> ''"],
        ["varchar(20)", "text"],
    ),
    "varchar(50)": ("'b'", ["'b'"], ["length({c}) > 0"], ["varchar(100)", "text"]),
    "numeric(10,2)": ("1.5", ["0"], ["{c} >= 0"], ["numeric(12,2)", "numeric"]),
    "numeric": ("2.5", ["0"], ["{c} > -1"], ["numeric(14,4)", "double precision"]),
    "boolean": ("true", ["true", "false"], ["{c} IS NOT NULL"], ["boolean"]),
    "timestamptz": (
        "now()",
        ["now()", "CURRENT_TIMESTAMP", "'2020-01-01 00:00:00+00'"],
        ["{c} > '2000-01-01'"],
        ["timestamp"],
    ),
    "timestamp": (
        "'2021-05-05 10:00'",
        ["CURRENT_TIMESTAMP", "LOCALTIMESTAMP"],
        ["{c} > '2000-01-01'"],
        ["timestamptz"],
    ),
    "date": (
        "'2021-05-05'",
        ["CURRENT_DATE"],
        ["{c} > '2000-01-01'"],
        ["timestamp", "timestamptz"],
    ),
    "jsonb": (
        "'{\"a\": 1}'",
        ["'{}'::jsonb", "'[]'"],
        ["jsonb_typeof({c}) = 'object'"],
        ["json", "text"],
    ),
    "uuid": ("gen_random_uuid()", ["gen_random_uuid()"], ["{c} IS NOT NULL"], ["text"]),
    "text[]": (
        "'{a,b}'",
        ["'{}'", "ARRAY[]::text[]"],
        ["cardinality({c}) < 10"],
        ["varchar(20)[]"],
    ),
    "double precision": ("1.25", ["0"], ["{c} > 0"], ["numeric", "real"]),
    "real": ("1.5", ["0"], ["{c} > 0"], ["double precision"]),
    "json": ("'{\"b\": 2}'", ["'{}'::json"], ["{c}::text <> ''"], ["jsonb", "text"]),
    "varchar(20)": ("'c'", ["'c'"], ["{c} IN ('c', 'd')"], ["varchar(40)", "text"]),
    "varchar(40)": ("'c'", ["'c'"], ["{c} <> 'zz'"], ["text"]),
    "varchar(100)": ("'e'", ["'e'"], ["length({c}) > 0"], ["text", "varchar(50)"]),
    "varchar(200)": ("'e'", ["'e'"], ["length({c}) > 0"], ["text"]),
    "numeric(12,2)": ("3.25", ["0"], ["{c} >= 0"], ["numeric", "integer"]),
    "numeric(14,4)": ("3.5", ["0"], ["{c} >= 0"], ["numeric"]),
    "varchar(20)[]": ("'{x}'", ["'{}'"], ["cardinality({c}) < 5"], ["text[]"]),
}
KEY_KINDS = ["serial", "bigserial", "int_identity", "bigint_identity_always", "int_plain", "uuid"]


@dataclass
class Col:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    key: str | None = None  # a KEY_KINDS entry for the id column
    identity_min: int | None = None
    generated: str | None = None  # expression of a STORED generated column


@dataclass
class Tbl:
    name: str
    cols: list[Col]
    pk: list[str] = field(default_factory=list)
    uniques: dict[str, list[str]] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    fks: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # col, table, on delete
    indexes: dict[str, str] = field(default_factory=dict)  # name -> "USING ... (...) ..."
    partitions: dict[str, str] = field(default_factory=dict)  # partition -> bound
    comment: str | None = None

    def col(self, name: str) -> Col | None:
        return next((c for c in self.cols if c.name == name), None)

    @property
    def partitioned(self) -> bool:
        return bool(self.partitions)


@dataclass
class Schema:
    tables: dict[str, Tbl] = field(default_factory=dict)
    renamed_tables: dict[str, str] = field(default_factory=dict)  # new -> old
    renamed_columns: dict[tuple[str, str], str] = field(default_factory=dict)


class Namer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.count = 0

    def __call__(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def key_column(kind: str) -> Col:
    types = {
        "serial": "serial",
        "bigserial": "bigserial",
        "int_identity": "integer",
        "bigint_identity_always": "bigint",
        "int_plain": "integer",
        "uuid": "uuid",
    }
    default = "gen_random_uuid()" if kind == "uuid" else None
    return Col("id", types[kind], nullable=False, default=default, key=kind)


def new_table(rng: random.Random, name: Namer, existing: Schema) -> Tbl:
    table = Tbl(name("t"), [key_column(rng.choice(KEY_KINDS))])
    for _ in range(rng.randint(1, 5)):
        table.cols.append(new_column(rng, name))
    if rng.random() < 0.15:
        # A partitioned table: LIST on a text column that is part of the primary key.
        part = Col("region", "text", nullable=False)
        table.cols.append(part)
        table.pk = ["id", "region"]
        for i, values in enumerate((["'eu'"], ["'us'", "'ca'"])):
            table.partitions[f"{table.name}_p{i}"] = f"FOR VALUES IN ({', '.join(values)})"
        if rng.random() < 0.5:
            table.partitions[f"{table.name}_def"] = "DEFAULT"
        return table
    if rng.random() < 0.9:
        table.pk = ["id"]
    for _ in range(rng.randint(0, 3)):
        add_index(rng, name, table)
    if rng.random() < 0.4:
        add_check(rng, name, table)
    if rng.random() < 0.3:
        add_unique(rng, name, table)
    if rng.random() < 0.5:
        add_fk(rng, name, table, existing)
    return table


def new_column(rng: random.Random, name: Namer) -> Col:
    type_ = rng.choice(list(TYPES))
    col = Col(name("c"), type_)
    if rng.random() < 0.3:
        col.default = rng.choice(TYPES[type_][1])
    if rng.random() < 0.25 and col.default is not None:
        col.nullable = False
    return col


def plain_cols(table: Tbl) -> list[Col]:
    return [c for c in table.cols if c.key is None and c.generated is None and c.type in TYPES]


def add_index(rng: random.Random, name: Namer, table: Tbl) -> None:
    cols = [c for c in plain_cols(table) if c.name != "region"]
    if not cols:
        return
    col = rng.choice(cols)
    q = f'"{col.name}"'
    t = col.type
    if t == "json":  # no operator class for any index method
        return
    options: list[str] = [f"({q})", f"({q} DESC NULLS LAST)", f"({q}) WHERE {q} IS NOT NULL"]
    if t in ("text", "varchar(10)", "varchar(50)"):
        options += [f"(lower({q}))", f"({q} text_pattern_ops)", f"USING hash ({q})"]
        options += [f"USING spgist ({q})"] if t == "text" else []
    if t in ("jsonb", "text[]"):
        options = [f"USING gin ({q})"] + (
            [f"USING gin ({q} jsonb_path_ops)"] if t == "jsonb" else []
        )
    if t in ("timestamptz", "timestamp", "date", "integer", "bigint"):
        options.append(f"USING brin ({q})")
    if t == "boolean":
        options = [f"({q})"]
    others = [c for c in cols if c is not col and c.type not in ("jsonb", "text[]")]
    if others and t not in ("jsonb", "text[]"):
        other = rng.choice(others)
        options.append(f'({q}, "{other.name}")')
        options.append(f'({q}) INCLUDE ("{other.name}")')
    definition = rng.choice(options)
    if table.partitioned and "INCLUDE" in definition:
        definition = f"({q})"
    table.indexes[name("ix")] = definition


def add_check(rng: random.Random, name: Namer, table: Tbl) -> None:
    cols = plain_cols(table)
    if cols:
        col = rng.choice(cols)
        expression = rng.choice(TYPES[col.type][2]).format(c=f'"{col.name}"')
        table.checks[name("ck")] = expression


def add_unique(rng: random.Random, name: Namer, table: Tbl) -> None:
    cols = [c for c in plain_cols(table) if c.type not in ("jsonb", "text[]", "json")]
    if cols and not table.partitioned:
        table.uniques[name("uq")] = [rng.choice(cols).name]


def add_fk(rng: random.Random, name: Namer, table: Tbl, schema: Schema) -> None:
    targets = [
        t
        for t in schema.tables.values()
        if t.pk == ["id"] and t.name != table.name and t.col("id") is not None
    ]
    if not targets or table.partitioned:
        return
    target = rng.choice(targets)
    id_type = {"serial": "integer", "bigserial": "bigint", "uuid": "uuid"}.get(
        target.cols[0].key or "", target.cols[0].type
    )
    col = Col(name("ref"), id_type)
    table.cols.append(col)
    on_delete = rng.choice(["NO ACTION", "CASCADE", "SET NULL", "RESTRICT"])
    table.fks[name("fk")] = (col.name, target.name, on_delete)


def mutate(rng: random.Random, name: Namer, before: Schema) -> Schema:
    """`after`: before with 1 to 4 random edits."""
    after = copy.deepcopy(before)
    after.renamed_tables, after.renamed_columns = {}, {}
    for _ in range(rng.randint(1, 4)):
        rng.choice(EDITS)(rng, name, after)
    return after


def pick_table(rng: random.Random, schema: Schema) -> Tbl | None:
    return rng.choice(list(schema.tables.values())) if schema.tables else None


def edit_add_table(rng: random.Random, name: Namer, s: Schema) -> None:
    table = new_table(rng, name, s)
    s.tables[table.name] = table


def edit_drop_table(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is None or len(s.tables) < 2 or table.name in s.renamed_tables:
        return
    del s.tables[table.name]
    for other in s.tables.values():
        for fk, (_, target, _) in list(other.fks.items()):
            if target == table.name:
                del other.fks[fk]


def edit_rename_table(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is None or table.partitioned or table.name in s.renamed_tables:
        return
    old, new = table.name, name("r")
    del s.tables[old]
    table.name = new
    s.tables[new] = table
    s.renamed_tables[new] = old
    for other in s.tables.values():
        for fk, (col, target, action) in list(other.fks.items()):
            if target == old:
                other.fks[fk] = (col, new, action)


def edit_add_column(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is not None:
        col = new_column(rng, name)
        if rng.random() < 0.15 and col.type in ("integer", "bigint", "numeric"):
            base = rng.choice([c for c in plain_cols(table)] or [col])
            if base is not col and base.type in ("integer", "bigint", "numeric", "smallint"):
                col.generated, col.default, col.nullable = f'"{base.name}" * 2', None, True
        table.cols.append(col)


def edit_drop_column(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    cols = [c for c in plain_cols(table)] if table else []
    cols = [c for c in cols if c.name != "region"]
    if table is None or not cols:
        return
    col = rng.choice(cols)
    used = f'"{col.name}"'
    if any(used in g.generated for g in table.cols if g.generated):
        return
    table.cols.remove(col)
    table.indexes = {k: v for k, v in table.indexes.items() if used not in v}
    table.checks = {k: v for k, v in table.checks.items() if used not in v}
    table.uniques = {k: v for k, v in table.uniques.items() if col.name not in v}
    table.fks = {k: v for k, v in table.fks.items() if v[0] != col.name}


def edit_rename_column(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is None or table.name in s.renamed_tables or table.partitioned:
        return
    cols = [c for c in plain_cols(table) if (table.name, c.name) not in s.renamed_columns]
    if not cols:
        return
    col = rng.choice(cols)
    old, new = col.name, name("n")
    if any(f'"{old}"' in (g.generated or "") for g in table.cols):
        return
    col.name = new
    s.renamed_columns[(table.name, new)] = old
    q_old, q_new = f'"{old}"', f'"{new}"'
    table.indexes = {k: v.replace(q_old, q_new) for k, v in table.indexes.items()}
    table.checks = {k: v.replace(q_old, q_new) for k, v in table.checks.items()}
    table.uniques = {k: [new if c == old else c for c in v] for k, v in table.uniques.items()}
    table.fks = {k: ((new if v[0] == old else v[0]), v[1], v[2]) for k, v in table.fks.items()}


def edit_change_type(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    cols = plain_cols(table) if table else []
    cols = [c for c in cols if c.name != "region" and not c.name.startswith("ref")]
    if table is None or not cols:
        return
    col = rng.choice(cols)
    used = f'"{col.name}"'
    if any(used in (g.generated or "") for g in table.cols):
        return
    new_type = rng.choice(TYPES[col.type][3])
    col.type = new_type
    if new_type in TYPES:
        col.default = None if col.default is None else TYPES[new_type][1][0]
    else:
        col.default = None
        col.nullable = True
    # What may not type-check under the new type goes.
    table.indexes = {k: v for k, v in table.indexes.items() if used not in v}
    table.checks = {k: v for k, v in table.checks.items() if used not in v}
    if new_type in ("json",):
        table.uniques = {k: v for k, v in table.uniques.items() if col.name not in v}


def edit_default(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    cols = [c for c in plain_cols(table) if c.type in TYPES] if table else []
    if cols:
        col = rng.choice(cols)
        if col.default is not None and col.nullable and rng.random() < 0.5:
            col.default = None
        else:
            col.default = rng.choice(TYPES[col.type][1])


def edit_not_null(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    cols = plain_cols(table) if table else []
    cols = [c for c in cols if table and c.name not in table.pk]
    if cols:
        col = rng.choice(cols)
        if col.nullable and col.default is None and col.type in TYPES:
            col.default = TYPES[col.type][1][0]
        col.nullable = not col.nullable if col.default is not None else True


def drop_one_or_add(rng: random.Random, items: dict[str, Any], add: Callable[[], None]) -> None:
    """Half the time drop one of `items` (when there are any), else `add` one."""
    if items and rng.random() < 0.5:
        del items[rng.choice(list(items))]
    else:
        add()


def edit_check(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is not None:
        drop_one_or_add(rng, table.checks, lambda: add_check(rng, name, table))


def edit_unique(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is not None:
        drop_one_or_add(rng, table.uniques, lambda: add_unique(rng, name, table))


def edit_index(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is None:
        return
    roll = rng.random()
    if table.indexes and roll < 0.3:
        del table.indexes[rng.choice(list(table.indexes))]
    elif table.indexes and roll < 0.5:
        old = rng.choice(list(table.indexes))
        del table.indexes[old]
        add_index(rng, name, table)
        if table.indexes:  # the new definition under the old name
            newest = list(table.indexes)[-1]
            table.indexes[old] = table.indexes.pop(newest)
    else:
        add_index(rng, name, table)


def edit_fk(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is None:
        return
    if table.fks and rng.random() < 0.4:
        fk = rng.choice(list(table.fks))
        col, target, _ = table.fks[fk]
        if rng.random() < 0.5:
            del table.fks[fk]
        else:
            table.fks[fk] = (col, target, rng.choice(["NO ACTION", "CASCADE", "SET NULL"]))
    else:
        add_fk(rng, name, table, s)


def edit_key(rng: random.Random, name: Namer, s: Schema) -> None:
    """The id column's kind changes: serial, bigserial, identity, plain; or identity options."""
    table = pick_table(rng, s)
    if table is None or table.cols[0].key in (None, "uuid"):
        return
    if any(
        t.name != table.name and any(f[1] == table.name for f in t.fks.values())
        for t in s.tables.values()
    ):
        return  # a referenced key keeps its type
    id_col = table.cols[0]
    if rng.random() < 0.3 and "identity" in (id_col.key or ""):
        id_col.identity_min = rng.choice([5, 100, None])
        return
    kind = rng.choice([k for k in KEY_KINDS if k != "uuid"])
    fresh = key_column(kind)
    id_col.type, id_col.key, id_col.default, id_col.identity_min = fresh.type, kind, None, None


def edit_pk(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is None or table.partitioned:
        return
    if any(any(f[1] == table.name for f in t.fks.values()) for t in s.tables.values()):
        return
    if table.pk and rng.random() < 0.3:
        table.pk = []
    else:
        cols = [c for c in plain_cols(table) if c.type not in ("jsonb", "text[]", "json")]
        if cols:
            col = rng.choice(cols)
            col.nullable = False
            if col.default is None and col.type in TYPES and rng.random() < 0.5:
                col.default = TYPES[col.type][1][0]
            table.pk = ["id", col.name] if rng.random() < 0.5 else [col.name]


def edit_partitions(rng: random.Random, name: Namer, s: Schema) -> None:
    parted = [t for t in s.tables.values() if t.partitioned]
    if not parted:
        return
    table = rng.choice(parted)
    roll = rng.random()
    if roll < 0.4:
        table.partitions[name(f"{table.name}_x")] = f"FOR VALUES IN ('{name('v')}')"
    elif roll < 0.7 and len(table.partitions) > 1:
        del table.partitions[rng.choice(list(table.partitions))]
    else:
        add_index(rng, name, table)


def edit_comment(rng: random.Random, name: Namer, s: Schema) -> None:
    table = pick_table(rng, s)
    if table is not None:
        table.comment = None if table.comment else f"about {table.name}"


EDITS = [
    edit_add_table,
    edit_drop_table,
    edit_rename_table,
    edit_add_column,
    edit_add_column,
    edit_drop_column,
    edit_rename_column,
    edit_change_type,
    edit_change_type,
    edit_default,
    edit_not_null,
    edit_check,
    edit_unique,
    edit_index,
    edit_index,
    edit_fk,
    edit_key,
    edit_pk,
    edit_partitions,
    edit_comment,
]


def column_sql(col: Col) -> str:
    if col.key == "int_identity":
        options = f" (MINVALUE {col.identity_min})" if col.identity_min else ""
        return f'"{col.name}" integer GENERATED BY DEFAULT AS IDENTITY{options}'
    if col.key == "bigint_identity_always":
        options = f" (MINVALUE {col.identity_min})" if col.identity_min else ""
        return f'"{col.name}" bigint GENERATED ALWAYS AS IDENTITY{options}'
    text = f'"{col.name}" {col.type}'
    if col.generated:
        return f"{text} GENERATED ALWAYS AS ({col.generated}) STORED"
    if col.default is not None:
        text += f" DEFAULT {col.default}"
    if not col.nullable:
        text += " NOT NULL"
    return text


def schema_sql(schema: Schema) -> str:
    out: list[str] = []
    for table in schema.tables.values():
        parts = [column_sql(c) for c in table.cols]
        if table.pk:
            parts.append("PRIMARY KEY ({})".format(", ".join(f'"{c}"' for c in table.pk)))
        for name, cols in table.uniques.items():
            parts.append(
                f'CONSTRAINT "{name}" UNIQUE ({", ".join(chr(34) + c + chr(34) for c in cols)})'
            )
        for name, expression in table.checks.items():
            parts.append(f'CONSTRAINT "{name}" CHECK ({expression})')
        tail = " PARTITION BY LIST (region)" if table.partitioned else ""
        out.append(f'CREATE TABLE "{table.name}" (\n  ' + ",\n  ".join(parts) + f"\n){tail};")
        for part, bound in table.partitions.items():
            out.append(f'CREATE TABLE "{part}" PARTITION OF "{table.name}" {bound};')
        for name, definition in table.indexes.items():
            out.append(f'CREATE INDEX "{name}" ON "{table.name}" {definition};')
        if table.comment:
            out.append(f"COMMENT ON TABLE \"{table.name}\" IS '{table.comment}';")
    for table in schema.tables.values():
        for name, (col, target, action) in table.fks.items():
            out.append(
                f'ALTER TABLE "{table.name}" ADD CONSTRAINT "{name}" FOREIGN KEY ("{col}") '
                f'REFERENCES "{target}" (id) ON DELETE {action};'
            )
    return "\n".join(out) + "\n"


def rows_sql(schema: Schema) -> str:
    """A row in each table without foreign keys, so type changes and checks meet data."""
    out: list[str] = []
    for table in schema.tables.values():
        bounds = " ".join(table.partitions.values())
        if table.fks or (table.partitioned and "'eu'" not in bounds and "DEFAULT" not in bounds):
            continue
        cols = [c for c in table.cols if c.key in (None, "int_plain") and c.generated is None]
        names = ", ".join(f'"{c.name}"' for c in cols)
        values = ", ".join(
            "'eu'"
            if c.name == "region"
            else "1"
            if c.key
            else TYPES[c.type][0]
            if c.type in TYPES
            else "NULL"
            for c in cols
        )
        if cols:
            out.append(f'INSERT INTO "{table.name}" ({names}) VALUES ({values});')
    return "\n".join(out) + "\n"


def make_pair(seed: int) -> tuple[Schema, Schema]:
    rng = random.Random(seed)
    name = Namer(rng)
    before = Schema()
    for _ in range(rng.randint(1, 4)):
        table = new_table(rng, name, before)
        before.tables[table.name] = table
    return before, mutate(rng, name, before)


@dataclass
class Outcome:
    name: str
    detail: str = ""


class Referee:
    """One server; databases a, b and scratch made again for each pair."""

    def __init__(self, server: LocalServer, work: Path, prefix: str = "pair") -> None:
        self.server = server
        self.work = work
        self.prefix = prefix
        self.scratch = create_database(server, f"{prefix}_scratch", "template0")

    def pg_dump(self, dsn: str) -> str:
        args = [str(self.server.bin_dir / "pg_dump"), "--schema-only", "--no-owner"]
        args += ["--exclude-schema=mmschema", "-d", dsn]
        output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        lines = [ln for ln in output.splitlines() if ln.strip() and not PG_DUMP_NOISE.match(ln)]
        return "\n".join(sorted_columns(lines))

    def judge(self, before: Schema, after: Schema) -> Outcome:
        return self.judge_sql(
            schema_sql(before) + rows_sql(before),
            schema_sql(after) + rows_sql(after),
            lambda dumped: file_text(dumped, before, after),
        )

    def judge_sql(self, before: str, after: str, edit: Callable[[str], str]) -> Outcome:
        """The referee on two scripts; `edit` turns the dump of B into the file."""
        a = create_database(self.server, f"{self.prefix}_a", "template0")
        b = create_database(self.server, f"{self.prefix}_b", "template0")
        try:
            run_script(a, before)
            run_script(b, after)
        except psycopg.Error as error:
            return Outcome("bad-pair", str(error).splitlines()[0])
        dumped = run_cli(["dump", "-d", b], self.work)
        if dumped.code != 0:
            return Outcome("dump-failed", dumped.stderr[-2000:])
        (self.work / "schema.yaml").write_text(edit(dumped.stdout))
        common = ["-d", a, "-f", str(self.work / "schema.yaml"), "--dev-database", self.scratch]
        applied = run_cli(["apply", "--yes", "--prune", "--allow", ALLOW, *common], self.work)
        if applied.code != 0:
            return Outcome("apply-failed", (applied.stdout + applied.stderr)[-3000:])
        again = run_cli(["plan", "--prune", "--detailed-exitcode", *common], self.work)
        if again.code != 0:
            return Outcome("not-converged", (again.stdout + again.stderr)[-3000:])
        want, have = self.pg_dump(b), self.pg_dump(a)
        if want != have:
            lines = difflib.unified_diff(
                want.splitlines(), have.splitlines(), "b", "a", lineterm=""
            )
            return Outcome("pgdump-differs", "\n".join(lines)[:3000])
        return Outcome("ok")


def sorted_columns(lines: list[str]) -> list[str]:
    """pg_dump lines with the column lines of each CREATE TABLE sorted (order aside)."""
    result: list[str] = []
    block: list[str] | None = None
    for line in lines:
        if line.startswith("CREATE TABLE") and line.endswith("("):
            result.append(line)
            block = []
        elif block is not None and line.startswith(")"):
            result.extend(sorted(c.rstrip(",") for c in block))
            result.append(line)
            block = None
        elif block is not None:
            block.append(line)
        else:
            result.append(line)
    return result


def file_text(dumped: str, before: Schema, after: Schema) -> str:
    """The dump of B, with `state: absent` for tables only A has and the renames."""
    document: dict[str, Any] = yaml.safe_load(dumped)
    tables: dict[str, Any] = document.setdefault("tables", {}) or {}
    document["tables"] = tables

    def relations(schema: Schema) -> set[str]:
        return {n for t in schema.tables.values() for n in (t.name, *t.partitions)}

    gone = relations(before) - relations(after) - set(after.renamed_tables.values())
    for name in sorted(gone):
        tables[name] = {"state": "absent"}
    for new, old in after.renamed_tables.items():
        if new in tables:
            tables[new]["renamed_from"] = old
    for (table, new), old in after.renamed_columns.items():
        spec = tables.get(table, {}).get("columns", {}).get(new)
        if spec is not None:
            spec["renamed_from"] = old
    return yaml.safe_dump(document, sort_keys=False)


def run(
    pairs: int, seed: int, major: int, keep: Path | None, only: list[int] | None = None
) -> Counter[str]:
    with throwaway_server(major) as server:
        return judge_pairs(server, pairs, seed, keep, only=only)


def judge_pairs(
    server: LocalServer,
    pairs: int,
    seed: int,
    keep: Path | None = None,
    quiet: bool = False,
    prefix: str = "pair",
    only: list[int] | None = None,
) -> Counter[str]:
    """Outcome counts of `pairs` pairs from `seed` (or of the pairs `only` names) on this
    server; failing ones into keep."""
    counts: Counter[str] = Counter()
    seeds = only if only else [seed * 1_000_003 + number for number in range(pairs)]
    pairs = len(seeds)
    with tempfile.TemporaryDirectory() as tmp:
        referee = Referee(server, Path(tmp), prefix)
        for number, pair_seed in enumerate(seeds):
            before, after = make_pair(pair_seed)
            (referee.work / "schema.yaml").unlink(missing_ok=True)
            try:
                outcome = referee.judge(before, after)
            except Exception as error:  # the harness's own trouble: counted, keep going
                outcome = Outcome("harness-error", repr(error))
            counts[outcome.name] += 1
            if outcome.name != "ok" and keep is not None:
                folder = keep / f"{outcome.name}-{pair_seed}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "before.sql").write_text(schema_sql(before) + rows_sql(before))
                (folder / "after.sql").write_text(schema_sql(after) + rows_sql(after))
                written = referee.work / "schema.yaml"
                if written.exists():
                    (folder / "schema.yaml").write_text(written.read_text())
                (folder / "detail.txt").write_text(outcome.detail)
            if not quiet:
                print(f"[{number + 1}/{pairs}] {outcome.name:15} seed {pair_seed}", flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--major", type=int, default=17)
    parser.add_argument("--keep", type=Path, help="write failing pairs into this folder")
    parser.add_argument("--only", help="judge these pair seeds (comma-separated) instead")
    args = parser.parse_args(argv)
    started = time.monotonic()
    only = [int(x) for x in args.only.split(",")] if args.only else None
    counts = run(args.pairs, args.seed, args.major, args.keep, only)
    total = sum(counts.values())
    judged = total - counts["bad-pair"]
    print("\n" + ", ".join(f"{k}={v}" for k, v in counts.most_common()))
    rate = 100 * counts["ok"] / judged if judged else 0.0
    print(
        f"converged {counts['ok']}/{judged} judged pairs ({rate:.1f} %) "
        f"in {time.monotonic() - started:.0f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
