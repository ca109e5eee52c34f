"""Data pre-flight: count, read-only on the target, the rows a new constraint would reject."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import errors, sql

from mmschema import changes as ch
from mmschema.bounds import bound_predicate
from mmschema.conversion_check import conversion_check, converted_unique_keys, never_rejects
from mmschema.hazards import Hazard
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import SERIAL_TYPES, ForeignKey, Index, IndexKey
from mmschema.kinds.tables.online import plain_cast
from mmschema.kinds.tables.typecast import explicit_cast, text_cast
from mmschema.model import Catalog, QualifiedName
from mmschema.plan import Plan, PlannedChange
from mmschema.sizes import TableSize

PREFLIGHT_TIMEOUT_MS = 60_000
PREFLIGHT_LOCK_MS = 5_000  # a table locked by another session: do not wait for long

Check = Callable[[psycopg.Connection[Any]], Hazard | None]


def key_expression(key: IndexKey) -> sql.Composable:
    """The value an index key compares: the column, or the printed expression in parentheses."""
    expr = sql.Identifier(key.expr) if key.is_column else sql.SQL("({})").format(sql.SQL(key.expr))
    if key.collation:
        expr = sql.SQL("{} COLLATE {}").format(expr, sql.Identifier(*key.collation.split(".")))
    return expr


def duplicate_groups_query(
    table: QualifiedName,
    keys: list[sql.Composable],
    where: str | None,
    nulls_distinct: bool,
) -> sql.Composed:
    """The key groups holding more than one row, as the unique index would see them.

    Only rows the index covers (its predicate) count, and while NULLs are distinct (the
    default) a row with any NULL key never collides, so those rows are left out.
    """
    conditions: list[sql.Composable] = []
    if where:
        conditions.append(sql.SQL("({})").format(sql.SQL(where)))
    if nulls_distinct:
        conditions.extend(sql.SQL("{} IS NOT NULL").format(k) for k in keys)
    keylist = sql.SQL(", ").join(keys)
    filter_ = (
        sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions))
        if conditions
        else sql.SQL("")
    )
    return sql.SQL("SELECT {}, count(*) FROM {}{} GROUP BY {} HAVING count(*) > 1").format(
        keylist, sql.Identifier(table.schema, table.name), filter_, keylist
    )


def duplicates_check(table: QualifiedName, index: Index) -> Check:
    query = duplicate_groups_query(
        table, [key_expression(k) for k in index.keys], index.where, index.nulls_distinct
    )
    return offenders_check(
        query, lambda found: f"{found} duplicate groups under unique index {index.name}"
    )


def nulls_check(table: QualifiedName, column: str, what: str) -> Check:
    query = sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(
        sql.Identifier(table.schema, table.name), sql.Identifier(column)
    )

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        found = scalar(conn, query)
        if not found:
            return None
        return Hazard("may_fail", f"{found} rows have {column} NULL; {what}")

    return check


def rows_check(table: QualifiedName, column: str) -> Check:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.schema, table.name))

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        found = scalar(conn, query)
        if not found:
            return None
        return Hazard(
            "may_fail",
            f"{table} has {found} rows and the new NOT NULL column {column} has no default: "
            "ADD COLUMN fails",
        )

    return check


STRING_TYPES = ("text", "character varying", "character")


def reads_as_input(change: cc.AlterColumnType) -> bool:
    """Whether the conversion behaves as the new type's input function on the old text:
    a narrower modifier of one type, or a string column cast to something else."""
    if change.cast not in ("lossy", "no implicit cast"):
        return False
    if change.using is not None and change.using == text_cast(change.column, change.new_type):
        return True
    if change.using is not None and change.using != explicit_cast(change.column, change.new_type):
        return False  # a USING expression of the user's: nothing to predict
    old_base = change.old_type.split("(")[0].removesuffix("[]").strip()
    new_base = change.new_type.split("(")[0].removesuffix("[]").strip()
    return old_base == new_base or old_base in STRING_TYPES


def unconvertible_check(table: QualifiedName, change: cc.AlterColumnType) -> Check:
    """Rows whose value the new type rejects (pg_input_is_valid, PostgreSQL 16 and later)."""
    column = sql.Identifier(change.column)
    listing = sql.SQL(
        "SELECT * FROM {} WHERE {} IS NOT NULL AND NOT pg_input_is_valid({}::text, {})"
    ).format(sql.Identifier(table.schema, table.name), column, column, sql.Literal(change.new_type))

    return offenders_check(
        listing,
        lambda found: f"{found} rows of {change.column} do not fit {change.new_type}",
        since=160000,
    )


def violations_check(table: QualifiedName, name: str, expression: str) -> Check:
    """Rows a new CHECK rejects: the expression is false (NULL passes, as in PostgreSQL)."""
    listing = sql.SQL("SELECT * FROM {} WHERE NOT ({})").format(
        sql.Identifier(table.schema, table.name), sql.SQL(expression)
    )

    return offenders_check(listing, lambda found: f"{found} rows break check {name}")


def orphans_check(table: QualifiedName, key: ForeignKey) -> Check:
    """Rows whose (non-NULL) key has no match in the referenced table (MATCH SIMPLE)."""
    pairs = zip(key.columns, key.referenced_columns, strict=True)
    match = sql.SQL(" AND ").join(
        sql.SQL("r.{} = t.{}").format(sql.Identifier(theirs), sql.Identifier(ours))
        for ours, theirs in pairs
    )
    present = sql.SQL(" AND ").join(
        sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in key.columns
    )
    listing = sql.SQL(
        "SELECT t.* FROM {} AS t WHERE {} AND NOT EXISTS (SELECT 1 FROM {} AS r WHERE {})"
    ).format(
        sql.Identifier(table.schema, table.name),
        present,
        sql.Identifier(key.references.schema, key.references.name),
        match,
    )

    return offenders_check(
        listing, lambda found: f"{found} rows have no match for foreign key {key.name}"
    )


def offenders_check(listing: sql.Composed, describe: Callable[[int], str], since: int = 0) -> Check:
    """may_fail when `listing` returns rows: how many, and the query that lists them.

    `since`: the server_version_num the listing needs (older servers skip the check).
    """

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        if conn.info.server_version < since:
            return None
        found = scalar(conn, sql.SQL("SELECT count(*) FROM ({}) AS rows").format(listing))
        if not found:
            return None
        return Hazard("may_fail", f"{describe(found)}; list them with: {listing.as_string(conn)}")

    return check


def scalar(conn: psycopg.Connection[Any], query: sql.Composed) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def live_table(change: ch.Change, live: Catalog) -> QualifiedName | None:
    """The existing table a change alters, or None (a new table has no rows to check)."""
    table = tc.table_before(change)
    return table if table is not None and table in live.tables else None


def renamed_columns(plan: Plan) -> dict[QualifiedName, dict[str, str]]:
    """Per table, the columns the plan renames: new name -> the name the rows have now."""
    renamed: dict[QualifiedName, dict[str, str]] = {}
    for planned in plan.changes:
        if isinstance(planned.change, cc.RenameColumn):
            renamed.setdefault(planned.change.table, {})[planned.change.new] = planned.change.old
    return renamed


def as_named_now(index: Index, renamed: Mapping[str, str]) -> Index:
    """The index with its column keys under the names the rows have before the plan runs."""
    keys = tuple(
        replace(k, expr=renamed.get(k.expr, k.expr)) if k.is_column else k for k in index.keys
    )
    return replace(index, keys=keys)


def checks_for(
    change: ch.Change, live: Catalog, renamed: Mapping[str, str] | None = None
) -> list[Check]:
    """The pre-flight queries a change needs; none for tables that do not exist yet.

    `renamed` (new -> current name) are the table's columns the plan renames before this
    change: the rows are read under their current names."""
    table = live_table(change, live)
    if table is None:
        return []
    now = renamed or {}

    def named(column: str) -> str:
        return now.get(column, column)

    match change:
        case (
            tc.CreateIndex(index=index)
            | tc.BuildPartitionedIndex(index=index)
            | tc.RebuildInvalidIndex(index=index)
            | tc.ReplaceIndex(new=index)
        ) if index.unique:
            return [duplicates_check(table, as_named_now(index, now))]
        case cc.AlterColumnNullability(column=column, nullable=False):
            return [nulls_check(table, named(column), "SET NOT NULL fails")]
        case cc.AddColumn(column=column) if (
            not column.nullable
            and column.default is None
            and column.identity is None
            and column.generated is None
            and column.type.strip().lower() not in SERIAL_TYPES  # nextval() fills them
        ):
            return [rows_check(table, column.name)]
        case cc.AlterColumnType() if reads_as_input(change):
            return [unconvertible_check(table, change)]
        case cc.RetypeExpand(column=name, new_type=new_type):
            column = next(c for c in live.tables[table].columns if c.name == name)
            if never_rejects(column.type, change, plain_cast(name, new_type)):
                return []
            converted = converted_unique_keys(live.tables[table], change)
            return [conversion_check(table, change, column)] + [
                duplicates_check(table, index) for index in converted
            ]
        case cc.RetypeBackfill(progress=progress) if progress is not None:
            return resumed_conversion_checks(live, change)
        case tc.AddUnique(constraint=unique):
            keys = tuple(IndexKey(named(c)) for c in unique.columns)
            index = Index(unique.name, keys, unique=True, nulls_distinct=unique.nulls_distinct)
            return [duplicates_check(table, index)]
        case tc.AddCheck(check=constraint) if constraint.valid:  # else: never validated
            return [violations_check(table, constraint.name, constraint.expression)]
        case tc.AddForeignKey(key=key) if key.valid:
            return [orphans_check(table, replace(key, columns=tuple(map(named, key.columns))))]
        case tc.AddPrimaryKey(key=key):
            columns = [named(c) for c in key.columns]
            index = Index(key.name, tuple(IndexKey(c) for c in columns), unique=True)
            pk_checks = [duplicates_check(table, index)]
            pk_checks += [nulls_check(table, c, "the primary key fails") for c in columns]
            return pk_checks
    return []


def resumed_conversion_checks(live: Catalog, change: cc.RetypeBackfill) -> list[Check]:
    """A backfill resumed by a later apply (no expand step, so no pre-flight there): the rows
    its shadows do not hold yet, converted as the backfill will convert them."""
    table = live.tables[change.table]
    found: list[Check] = []
    for name, shadow_name, value in change.parts:
        column = next((c for c in table.columns if c.name == name), None)
        shadow = next((c for c in table.columns if c.name == shadow_name), None)
        if column is None or shadow is None:
            continue
        plain = plain_cast(name, shadow.type)
        if value != plain and value.startswith(plain_cast(name, "")):
            continue  # a plain cast to another type: the shadow is abandoned and made again
        expand = cc.RetypeExpand(change.table, name, shadow_name, shadow.type, value, "")
        if not never_rejects(column.type, expand, plain):
            found.append(conversion_check(change.table, expand, column, shadow_name))
    return found


def default_partition_check(
    parent: QualifiedName, partition_by: str, table: QualifiedName, bound: str
) -> Check | None:
    """Rows of the parent's DEFAULT partition that the new bound covers: PostgreSQL refuses
    the CREATE or ATTACH ("updated partition constraint for default partition would be
    violated") until they are moved out."""
    predicate = bound_predicate(partition_by, bound)
    if predicate is None:
        return None
    find_default = sql.SQL(
        "SELECT n.nspname, c.relname FROM pg_partitioned_table p"
        " JOIN pg_class c ON c.oid = p.partdefid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE p.partrelid = {}::regclass"
    )

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        name = sql.Identifier(parent.schema, parent.name).as_string(conn)
        row = conn.execute(find_default.format(sql.Literal(name))).fetchone()
        if row is None or QualifiedName(row[0], row[1]) == table:
            return None
        default = QualifiedName(row[0], row[1])
        listing = sql.SQL("SELECT * FROM {} WHERE ({})").format(
            sql.Identifier(default.schema, default.name), sql.SQL(predicate)
        )
        return offenders_check(
            listing,
            lambda found: f"{found} rows of the DEFAULT partition {default} fall within the "
            f"bound of {table}: apply fails (PostgreSQL refuses the partition) until they "
            "are moved out",
        )(conn)

    return check


def partition_checks(change: ch.Change, live: Catalog) -> list[Check]:
    """Pre-flights of a partition created or attached under a live parent."""
    match change:
        case tc.CreateTable(table=table) if table.partition_of and table.partition_bound:
            parent, name, bound = table.partition_of, table.name, table.partition_bound
        case tc.AttachPartition(table=name, parent=parent, bound=bound):
            pass
        case _:
            return []
    have = live.tables.get(parent)
    if have is None or have.partition_by is None:
        return []
    check = default_partition_check(parent, have.partition_by, name, bound)
    return [check] if check is not None else []


def conversion_checks(change: ch.Change, live: Catalog) -> list[Check]:
    """A type change whose conversion can raise on some values (not binary-coercible, not
    an implicit cast, or a USING of the file's)."""
    table = live_table(change, live)
    if table is None or not isinstance(change, cc.AlterColumnType):
        return []
    if not (change.cast in ("lossy", "no implicit cast") or change.using is not None):
        return []
    column = next((c for c in live.tables[table].columns if c.name == change.column), None)
    if column is None:
        return []
    # The online change's conversion pre-flight, on the value the plain ALTER computes.
    value = change.using or sql.Identifier(change.column).as_string(None)
    expand = cc.RetypeExpand(table, change.column, "", change.new_type, value, "")
    counted = conversion_check(table, expand, column)

    def check(conn: psycopg.Connection[Any]) -> Hazard | None:
        if conn.info.server_version >= 160000 and reads_as_input(change):
            return None  # unconvertible_check counts and lists them
        return counted(conn)

    return [check]


def run_checks(
    conn: psycopg.Connection[Any], checks: list[Check], renames: bool = False
) -> list[Hazard]:
    """Each check under a savepoint: one that cannot run (a column the plan adds) is skipped;
    with `renames` (the plan renames a column of the table), one that names a column the
    rows do not have yet is may_fail: its rows could not be counted."""
    found: list[Hazard] = []
    for check in checks:
        try:
            with conn.transaction():
                hazard = check(conn)
        except errors.QueryCanceled:
            hazard = Hazard(
                "long_running",
                f"the data pre-flight check did not finish in {PREFLIGHT_TIMEOUT_MS // 1000}s; "
                "rows that violate the change were not counted",
            )
        except errors.LockNotAvailable:
            hazard = Hazard(
                "may_fail",
                "the data pre-flight check could not read the table: another session holds "
                "a lock on it; plan again when it is released",
            )
        except psycopg.Error as error:
            hazard = (
                Hazard(
                    "may_fail",
                    "the data pre-flight check could not count the rows this change rejects: "
                    "it reads a column the plan renames first; apply the rename alone first",
                )
                if renames and isinstance(error, errors.UndefinedColumn)
                else None  # e.g. a column the plan itself adds
            )
        if hazard is not None:
            found.append(hazard)
    return found


def table_size(conn: psycopg.Connection[Any], table: QualifiedName) -> TableSize:
    name = sql.Identifier(table.schema, table.name)
    row = conn.execute(
        sql.SQL(
            "SELECT c.reltuples::bigint, pg_total_relation_size(c.oid), "
            "EXISTS (SELECT 1 FROM {}) FROM pg_class c WHERE c.oid = {}::regclass"
        ).format(name, sql.Literal(name.as_string(conn)))
    ).fetchone()
    if row is None:
        return TableSize(0, 0, False)
    return TableSize(int(row[0]), int(row[1]), bool(row[2]))


def safe_table_size(conn: psycopg.Connection[Any], table: QualifiedName) -> TableSize:
    """The table's size, or nothing known when it cannot be read (locked by another session)."""
    try:
        with conn.transaction():
            return table_size(conn, table)
    except psycopg.Error:
        return TableSize(0, 0, False)


def slow_scan(change: ch.Change) -> str | None:
    """What a change does to every row of an existing table, or None."""
    match change:
        case cc.AlterColumnType() | cc.ReplaceGeneratedColumn():
            return "rewrites the table and its indexes"
        case tc.CreateIndex(concurrently=False):
            return "builds the index while writes wait"
        case tc.BuildPartitionedIndex():
            return "builds the index on every partition (writes go on)"
        case cc.AlterColumnNullability(nullable=False):
            return "the NOT NULL check scans every row (writes go on)"
        case tc.AddPrimaryKey():
            return "the primary key scans every row and builds its index"
        case cc.AddColumn(backfill=str()):
            return "updates every row to backfill"
        case tc.AddForeignKey(not_valid=False):
            return "the foreign key checks every row"
    return None


def size_hazards(change: ch.Change, size: TableSize) -> list[Hazard]:
    """long_running on large tables; blocking for full scans under ACCESS EXCLUSIVE."""
    found: list[Hazard] = []
    table = getattr(change, "table", None)
    what = slow_scan(change)
    if what and size.large:
        found.append(Hazard("long_running", f"{what} on {table} ({size.describe()})"))
    blocks = (isinstance(change, tc.AddPrimaryKey) and change.index == "plain") or (
        isinstance(change, cc.AlterColumnNullability) and not change.nullable and not change.online
    )
    if blocks and size.has_rows:
        found.append(
            Hazard(
                "blocking",
                f"{what} of {table} under an ACCESS EXCLUSIVE lock; reads and writes wait",
            )
        )
    if isinstance(change, tc.AddForeignKey) and not change.not_valid and size.has_rows:
        found.append(
            Hazard(
                "blocking",
                f"foreign key {change.key.name} checks every row of {table} as it is added, "
                "under a SHARE ROW EXCLUSIVE lock: writes wait (a key to a partitioned table "
                "is not added NOT VALID and validated later, which PostgreSQL 14 to 17 leave "
                "half done)",
            )
        )
    plain_build = (
        isinstance(change, tc.CreateIndex | tc.ReplaceIndex | tc.RebuildInvalidIndex)
        and not change.concurrently
        and not (isinstance(change, tc.ReplaceIndex) and change.partitions)  # piece by piece
        and not (isinstance(change, tc.CreateIndex) and change.in_type_change)  # its own says
    )
    if plain_build and size.has_rows:
        found.append(
            Hazard(
                "blocking",
                f"the index on {table} is built without CONCURRENTLY (a partitioned table); "
                "writes wait for the whole build",
            )
        )
    return found


def kind_checks(change: ch.Change) -> list[Check]:
    """The counts a kind's change asks for (a domain's new check: the values it rejects)."""
    asked = getattr(change, "data_checks", None)
    return list(asked()) if callable(asked) else []


def preflight(
    conn: psycopg.Connection[Any], plan: Plan, live: Catalog, timeout_ms: int = PREFLIGHT_TIMEOUT_MS
) -> Plan:
    """The plan with the hazards the live data adds: may_fail, long_running, blocking."""
    todo = [
        (i, table)
        for i, c in enumerate(plan.changes)
        if ((table := live_table(c.change, live)) is not None
        and (slow_scan(c.change) or checks_for(c.change, live)))
        or partition_checks(c.change, live)
        or kind_checks(c.change)
    ]
    if not todo:
        return plan
    changes: list[PlannedChange] = list(plan.changes)
    sizes: dict[QualifiedName, TableSize] = {}
    renamed = renamed_columns(plan)
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(f"{timeout_ms}ms"))
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(f"{PREFLIGHT_LOCK_MS}ms"))
        for i, table in todo:
            change = changes[i].change
            if table is not None and slow_scan(change) and table not in sizes:
                sizes[table] = safe_table_size(conn, table)
            now = renamed.get(table, {}) if table is not None else {}
            extra = run_checks(
                conn,
                checks_for(change, live, now)
                + partition_checks(change, live)
                + conversion_checks(change, live)
                + kind_checks(change),
                renames=bool(now),
            )
            if table is not None and table in sizes:
                extra = size_hazards(change, sizes[table]) + extra
            if extra:
                changes[i] = replace(changes[i], hazards=changes[i].hazards + tuple(extra))
    return replace(plan, changes=changes)
