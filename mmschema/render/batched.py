"""A backfill job as one psql statement: a DO block that commits after every short batch.

It walks the primary key (or, without one, the blocks of the table or of each of its
partitions, by ctid range) up to where the table ends when it starts, updates in each
window the rows that still differ, and commits; each batch waits for row locks under the
session's lock_timeout and is tried again a few times after a timeout. The window adapts
to keep a batch near 40 ms, so a writer never waits for more than one short batch. A DO
block may COMMIT when psql runs it outside a transaction block (PostgreSQL 11 and later).
"""

from __future__ import annotations

from psycopg import sql

from mmschema.backfill import MAX_BATCH, MIN_BATCH, START_BATCH, BackfillJob, assignments, differs
from mmschema.ddl import render

FAST, SLOW = "20 ms", "80 ms"  # a batch quicker than FAST doubles the window, slower halves it
START_BLOCKS, MAX_BLOCKS = 8, 4096


def batched_backfill(job: BackfillJob, keys: list[str], retries: int) -> str:
    """The DO block that runs `job` in committed batches (by `keys`, or by ctid without)."""
    body = render(_by_key(job, keys, retries) if keys else _by_blocks(job, retries))
    tag = "mmschema"
    while f"${tag}$" in body:  # a dollar quote the file's expressions cannot end
        tag += "_"
    return f"DO ${tag}$\n{body}\n${tag}$"


def _names(prefix: str, count: int) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL(f"{prefix}_{i}") for i in range(1, count + 1))


def _by_key(job: BackfillJob, keys: list[str], retries: int) -> sql.Composed:
    table = sql.Identifier(job.table.schema, job.table.name)
    columns = sql.SQL(", ").join(sql.Identifier(k) for k in keys)
    descending = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(k)) for k in keys)
    declare = sql.SQL("").join(
        sql.SQL("  {}_{} {}%TYPE;\n").format(
            sql.SQL(prefix), sql.SQL(str(i)), sql.Identifier(job.table.schema, job.table.name, k)
        )
        for prefix in ("lo", "hi", "up")
        for i, k in enumerate(keys, 1)
    )
    lo, hi, up = (_names(p, len(keys)) for p in ("lo", "hi", "up"))
    # From lo (inclusive on the first batch only) up to hi: one index range scan.
    window = sql.SQL("({c}) >= ({lo}) AND NOT (started AND ({c}) = ({lo})) AND ({c}) <= ({end})")
    update = sql.SQL("UPDATE {table} SET {sets} WHERE {window} AND {differs}").format(
        table=table,
        sets=assignments(job),
        window=window.format(c=columns, lo=lo, end=hi),
        differs=differs(job),
    )
    return sql.SQL(
        "DECLARE\n{declare}"
        "  started boolean := false;\n"
        "  size bigint := {start};\n"
        "{common_declare}"
        "BEGIN\n"
        "  SELECT {columns} INTO {lo} FROM {table} ORDER BY {columns} LIMIT 1;\n"
        "  IF NOT FOUND THEN RETURN; END IF;\n"
        "  SELECT {columns} INTO {up} FROM {table} ORDER BY {descending} LIMIT 1;\n"
        "  LOOP\n"
        "    SELECT {columns} INTO {hi} FROM (SELECT {columns} FROM {table} WHERE {upto}"
        " ORDER BY {columns} LIMIT size) AS w ORDER BY {descending} LIMIT 1;\n"
        "    EXIT WHEN NOT FOUND;\n"
        "{batch}"
        "{adapt}"
        "{advance}"
        "    started := true;\n"
        "  END LOOP;\n"
        "{report}"
        "END"
    ).format(
        declare=declare,
        start=sql.Literal(START_BATCH),
        common_declare=_COMMON_DECLARE,
        columns=columns,
        descending=descending,
        table=table,
        lo=lo,
        hi=hi,
        up=up,
        upto=window.format(c=columns, lo=lo, end=up),
        advance=sql.SQL("").join(
            sql.SQL(f"    lo_{i} := hi_{i};\n") for i in range(1, len(keys) + 1)
        ),
        batch=_retried(update, job, retries),
        adapt=_adapt(MIN_BATCH, MAX_BATCH),
        report=_report(job),
    )


def _by_blocks(job: BackfillJob, retries: int) -> sql.Composed:
    table = sql.Identifier(job.table.schema, job.table.name)
    update = sql.SQL(
        "UPDATE {table} SET {sets} WHERE ctid >= format('(%s,0)', lo)::tid"
        " AND ctid < format('(%s,0)', lo + size)::tid AND {differs}"
    ).format(table=table, sets=assignments(job), differs=differs(job))
    return sql.SQL(
        "DECLARE\n"
        "  lo bigint := 0;\n"
        "  size bigint := {start};\n"
        "  last_block bigint;\n"
        "{common_declare}"
        "BEGIN\n"
        # pg_partition_tree lists nothing for a table without partitions
        "  SELECT greatest(pg_relation_size({name}::regclass), max(pg_relation_size(relid)))"
        " / current_setting('block_size')::bigint"
        " INTO last_block FROM pg_partition_tree({name}::regclass);\n"
        "  WHILE lo <= last_block LOOP\n"
        "{batch}"
        "    lo := lo + size;\n"
        "{adapt}"
        "  END LOOP;\n"
        "{report}"
        "END"
    ).format(
        start=sql.Literal(START_BLOCKS),
        common_declare=_COMMON_DECLARE,
        name=sql.Literal(render(table)),
        batch=_retried(update, job, retries),
        adapt=_adapt(1, MAX_BLOCKS),
        report=_report(job),
    )


_COMMON_DECLARE = sql.SQL(
    "  began timestamptz;\n"
    "  tries integer;\n"
    "  n bigint;\n"
    "  done bigint := 0;\n"
    "  batches bigint := 0;\n"
)


def _retried(update: sql.Composable, job: BackfillJob, retries: int) -> sql.Composed:
    """The batch's UPDATE, tried again after a lock timeout, then committed."""
    return sql.SQL(
        "    tries := 0;\n"
        "    LOOP\n"
        "      BEGIN\n"
        "        began := clock_timestamp();\n"
        "        {update};\n"
        "        GET DIAGNOSTICS n = ROW_COUNT;\n"
        "        EXIT;\n"
        "      EXCEPTION WHEN lock_not_available THEN\n"
        "        tries := tries + 1;\n"
        "        IF tries > {retries} THEN RAISE; END IF;\n"
        "        RAISE NOTICE {message}, tries;\n"
        "        PERFORM pg_sleep(0.1 * tries);\n"
        "      END;\n"
        "    END LOOP;\n"
        "    COMMIT;\n"
        "    done := done + n;\n"
        "    batches := batches + 1;\n"
    ).format(
        update=update,
        retries=sql.Literal(retries),
        message=sql.Literal(_escaped(job) + f": lock timeout, retry % of {retries}"),
    )


def _escaped(job: BackfillJob) -> str:
    """The job's label for a RAISE format string (a % in a name doubled)."""
    return f"backfill {job.label}".replace("%", "%%")


def _adapt(low: int, high: int) -> sql.Composed:
    return sql.SQL(
        "    IF clock_timestamp() - began < interval {fast} THEN size := least(size * 2, {high});\n"
        "    ELSIF clock_timestamp() - began > interval {slow} THEN"
        " size := greatest(size / 2, {low});\n"
        "    END IF;\n"
    ).format(
        fast=sql.Literal(FAST), slow=sql.Literal(SLOW), low=sql.Literal(low), high=sql.Literal(high)
    )


def _report(job: BackfillJob) -> sql.Composed:
    message = _escaped(job) + ": % rows in % batches"
    return sql.SQL("  RAISE NOTICE {}, done, batches;\n").format(sql.Literal(message))
