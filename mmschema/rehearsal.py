"""`--rehearse`: run a plan first on a copy of the managed tables' definitions.

The copy lives in a temporary database on the scratch server, built from `dump` of the
target's managed tables. Each statement of the plan runs there; for statements that run
in a transaction, the table locks the session holds after it are read from `pg_locks`
(locks last until the transaction ends, so nothing is missed however short the statement);
a CONCURRENTLY statement is made to wait for an open snapshot while a second session reads
its locks. For every statement, a table whose `relfilenode` changed was rewritten. The rehearsal
must converge (planning again finds nothing), or it fails before the target is touched.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from rich.console import Console

from mmschema import ddl
from mmschema.canonical import sequence_names
from mmschema.catalogsql import table_sql
from mmschema.connect import connect, primary_message
from mmschema.converge import ConvergeFailed, converge
from mmschema.ddl import Statement
from mmschema.desired.declared import DesiredState
from mmschema.diff import managed_names
from mmschema.dump import document_text, dump_yaml
from mmschema.hazards import Hazard, hazards
from mmschema.introspect import catalog_sql, read_function_definitions
from mmschema.kinds.default_privileges import without_privileges
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.locks import Form, LockLevel
from mmschema.model import QualifiedName
from mmschema.normalize import NormalizeCache, Scratch
from mmschema.pipeline.kinds import dump_objects, live_types_but_declared, objects_document
from mmschema.plan import Plan, PlannedChange
from mmschema.planner import compute_plan
from mmschema.sources import SourceError, server_dsn, temporary_database


class RehearsalFailed(SourceError):
    """The rehearsal could not copy, run or converge: one line, exit 1."""


@dataclass
class Measured:
    """What one statement did on the copy."""

    change: str  # "kind object"
    sql: str
    predicted: LockLevel
    locks: dict[str, LockLevel] | None  # table -> strongest lock; None: not measurable
    rewritten: list[str] = field(default_factory=list)
    preflight: tuple[Hazard, ...] = ()  # what the pre-flight found in the target's rows
    rewrite_predicted: bool = False  # the change carries a `rewrite` hazard

    @property
    def strongest(self) -> LockLevel:
        return max(self.locks.values(), default=LockLevel.NONE) if self.locks else LockLevel.NONE


def found_on_target(planned: PlannedChange) -> tuple[Hazard, ...]:
    """The hazards the pre-flight added from the target's rows (the copy has none)."""
    static = set(hazards(planned.change))
    return tuple(h for h in planned.hazards if h not in static)


def predicts_rewrite(planned: PlannedChange) -> bool:
    return any(h.kind == "rewrite" for h in planned.hazards)


def lock_level(mode: str) -> LockLevel:
    """pg_locks' `AccessExclusiveLock` as LockLevel.ACCESS_EXCLUSIVE."""
    words = re.findall(r"[A-Z][a-z]*", mode.removesuffix("Lock"))
    return LockLevel["_".join(w.upper() for w in words)]


def locks_of(conn: psycopg.Connection[Any], pid: int) -> dict[str, LockLevel]:
    """The strongest table lock that session `pid` holds, per table."""
    held: dict[str, LockLevel] = {}
    for relation, mode in conn.execute(catalog_sql("session_locks"), {"pid": pid}).fetchall():
        level = lock_level(str(mode))
        held[str(relation)] = max(level, held.get(str(relation), LockLevel.NONE))
    return held


def own_locks(conn: psycopg.Connection[Any]) -> dict[str, LockLevel]:
    return locks_of(conn, conn.info.backend_pid)


def filenodes(conn: psycopg.Connection[Any]) -> dict[int, tuple[str, int]]:
    return {
        int(o): (str(n), int(f)) for o, n, f in conn.execute(catalog_sql("filenodes")).fetchall()
    }


def rewritten(before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]]) -> list[str]:
    return sorted(
        name for oid, (name, node) in after.items() if oid in before and before[oid][1] != node
    )


def run_measured(conn: psycopg.Connection[Any], dsn: str, plan: Plan) -> list[Measured]:
    """Each statement of `plan` on the copy `conn`; `dsn` (with its password) opens watchers."""
    results: list[Measured] = []
    for planned in plan.changes:
        try:
            if planned.transactional:
                with conn.transaction():
                    results.extend(_in_transaction(conn, planned))
            else:
                for statement in planned.statements:
                    before = filenodes(conn)
                    held: dict[str, LockLevel] | None
                    if statement.transactional:
                        with conn.transaction():
                            held = own_locks_after(conn, statement)
                    else:
                        table = tc.table_before(planned.change)
                        held = concurrent_locks(conn, dsn, statement, table)
                    results.append(
                        Measured(
                            f"{planned.kind} {planned.object}",
                            statement.sql,
                            statement.lock,
                            held,
                            rewritten(before, filenodes(conn)),
                            found_on_target(planned),
                            predicts_rewrite(planned),
                        )
                    )
        except psycopg.Error as error:
            message = primary_message(error)
            raise RehearsalFailed(
                f"rehearsal failed at {planned.kind} {planned.object}: {message}"
            ) from None
    return results


def own_locks_after(conn: psycopg.Connection[Any], statement: Statement) -> dict[str, LockLevel]:
    held = own_locks(conn)
    conn.execute(statement.sql.encode())
    return {r: lvl for r, lvl in own_locks(conn).items() if lvl > held.get(r, LockLevel.NONE)}


def concurrent_locks(
    conn: psycopg.Connection[Any],
    dsn: str,
    statement: Statement,
    table: QualifiedName | None,
) -> dict[str, LockLevel] | None:
    """The locks a CONCURRENTLY statement holds, seen from a second session.

    A third session keeps a snapshot open and touches the table, so the statement waits
    for it (as concurrent builds and drops do) while holding its lock; meanwhile the
    locks of the statement's backend are read from pg_locks, then the snapshot is let go.
    The two sessions connect with `dsn`, not `conn.info.dsn`, which carries no password.
    """
    if table is None:
        conn.execute(statement.sql.encode())
        return None
    pid = conn.info.backend_pid
    seen: dict[str, LockLevel] = {}
    failure: list[BaseException] = []
    with psycopg.connect(dsn) as holder, psycopg.connect(dsn, autocommit=True) as watcher:
        holder.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        holder.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(ddl.qualified(table)))

        def run() -> None:
            try:
                conn.execute(statement.sql.encode())
            except BaseException as error:  # re-raised in the caller's thread
                failure.append(error)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        deadline = time.monotonic() + 5
        while worker.is_alive() and time.monotonic() < deadline:
            for relation, level in locks_of(watcher, pid).items():
                seen[relation] = max(level, seen.get(relation, LockLevel.NONE))
            if seen:
                break
            time.sleep(0.01)
        holder.rollback()
        worker.join()
    if failure:
        raise failure[0]
    return seen


def _in_transaction(conn: psycopg.Connection[Any], planned: PlannedChange) -> list[Measured]:
    results: list[Measured] = []
    for statement in planned.statements:
        if statement.form in (
            Form.VIEW_PRIVILEGES,
            Form.ROUTINE_PRIVILEGES,
            Form.GRANT,
            Form.RELATION_OWNER,
        ):
            continue  # roles are the target's cluster's; the scratch server may lack them
        if isinstance(planned.change, cc.CreateColumnReader) and planned.change.reader.table:
            continue  # a rule's actions may name tables the file does not manage: not copied
        before = filenodes(conn)
        new = own_locks_after(conn, statement)
        results.append(
            Measured(
                f"{planned.kind} {planned.object}",
                statement.sql,
                statement.lock,
                new,
                rewritten(before, filenodes(conn)),
                found_on_target(planned),
                predicts_rewrite(planned),
            )
        )
    return results


def copy_supporting_objects(target: psycopg.Connection[Any], plan: Plan, dsn: str) -> None:
    """The target's extensions, enums, domains and functions, which the tables may use."""
    statements = [ddl.statements_for_extension(e) for e in sorted(plan.live.extensions)]
    # Those of the kinds the file declares are made by the copy's file, as they are.
    for user_type in live_types_but_declared(plan.live.types, plan.live.objects):
        statements.append(ddl.render(ddl.create_schema(user_type.name.schema)))
        statements.extend(ddl.create_user_type(user_type))
    # Functions may live in the managed tables' schemas (a trigger's, say).
    for schema in sorted({name.schema for name in plan.live.tables} - {"public"}):
        statements.append(ddl.render(ddl.create_schema(schema)))
    statements.extend(read_function_definitions(target))
    called = standalone_sequences_called(target, plan)
    with connect(dsn, "mmschema-rehearsal") as conn:
        conn.execute("SET check_function_bodies = off")
        for statement in statements:
            with contextlib.suppress(psycopg.Error):  # what fails shows up in the copy
                conn.execute(statement.encode())
        for schema, name in called:
            with contextlib.suppress(psycopg.Error):
                conn.execute(
                    sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(name)
                    )
                )


def standalone_sequences_called(target: psycopg.Connection[Any], plan: Plan) -> list[Any]:
    """The sequences the tables' defaults call that no column owns (not a serial's or an
    identity's): the copy's file may not declare them, its tables need them."""
    called = sorted(
        {
            sequence
            for table in plan.live.tables.values()
            for column in table.columns
            for sequence in sequence_names(column.default or "")
        }
    )
    if not called:
        return []
    params = {"schemas": [s for s, _ in called], "names": [n for _, n in called]}
    return target.execute(catalog_sql("standalone_sequences"), params).fetchall()


def copy_sequence_positions(target: psycopg.Connection[Any], plan: Plan, dsn: str) -> None:
    """Where the target's serial and identity sequences stand, so that option changes
    (a new MINVALUE, say) meet the copy as they will meet the target."""
    columns = [
        (name, column.name)
        for name, table in plan.live.tables.items()
        for column in table.columns
    ]
    rows = target.execute(
        table_sql("sequence_positions"),
        {
            "schemas": [n.schema for n, _ in columns],
            "tables": [n.name for n, _ in columns],
            "columns": [c for _, c in columns],
        },
    ).fetchall()
    with connect(dsn, "mmschema-rehearsal") as conn:
        for schema, table, column, last_value in rows:
            if last_value is None:
                continue
            qualified = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            with contextlib.suppress(psycopg.Error):  # a table the copy does not hold
                conn.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), %s::bigint)",
                    [qualified.as_string(conn), column, last_value],
                )


def rehearse(
    target: psycopg.Connection[Any],
    desired: DesiredState,
    plan: Plan,
    dev_database: str | None,
    workdir: Path,
    scratch: Scratch,
    cache: NormalizeCache,
    announce: Callable[[str], None],
    prune: bool = False,
) -> list[Measured]:
    """Run `plan` on a copy of the managed tables' definitions; what each statement did."""
    managed = managed_names(desired)
    if not managed or plan.empty:
        return []
    # Undeclared partitions too: the plan's partitioned index builds reach them.
    partitions = [
        p.name for n in managed if n in plan.live.tables for p in plan.live.tables[n].partitions
    ]
    copied = list(dict.fromkeys([*managed, *partitions]))
    schemas = sorted({n.schema for n in copied})
    copy_text = dump_yaml(target, schemas, [str(n) for n in copied])
    # What the copied tables carry (policies, triggers: --prune may drop them), then the
    # live objects the plan works on (the views), merged section by section.
    on_tables = dump_objects(target, schemas, [str(n) for n in copied])
    live_objects = objects_document(plan.live.objects)
    if on_tables or live_objects:
        copied_document = yaml.safe_load(copy_text)
        for key in {**on_tables, **live_objects}:
            section = {**on_tables.get(key, {}), **live_objects.get(key, {})}
            copied_document[key] = {**(copied_document.get(key) or {}), **section}
        copy_text = document_text(copied_document)
    server = server_dsn(dev_database, workdir, announce)
    with temporary_database(server) as dsn:
        copy_supporting_objects(target, plan, dsn)
        with tempfile.TemporaryDirectory(prefix="mmschema-rehearsal-") as directory:
            file = Path(directory) / "copy.yaml"
            file.write_text(copy_text)
            try:
                converge(file, dsn, scratch, cache)
            except ConvergeFailed as failed:
                reason = f"rehearsal: cannot copy the managed tables: {failed}"
                raise RehearsalFailed(reason) from None
        copy_sequence_positions(target, plan, dsn)
        with connect(dsn, "mmschema-rehearsal") as conn:
            results = run_measured(conn, dsn, plan)
            # Owners and grants are not rehearsed: the copy's server may lack the roles.
            unowned = without_privileges(desired)
            again = compute_plan(conn, unowned, scratch, cache, "rehearsal", prune=prune).plan
    if not again.empty:
        pending = ", ".join(f"{c.kind} {c.object}" for c in again.changes)
        raise RehearsalFailed(
            f"the rehearsal did not converge (still pending: {pending}); the target was not touched"
        )
    surprise = unpredicted(results)
    if surprise:
        raise RehearsalFailed(f"{surprise}; the target was not touched")
    return results


def unpredicted(results: list[Measured]) -> str | None:
    """What the rehearsal measured that the plan did not predict, in one line; None if nothing."""
    stronger = [m for m in results if m.strongest > m.predicted]
    if stronger:
        worst = stronger[0]
        return (
            f"the rehearsal measured {worst.strongest.sql_name} for {worst.change} where "
            f"{worst.predicted.sql_name} was predicted ({len(stronger)} statements)"
        )
    rewriting = [m for m in results if m.rewritten and not m.rewrite_predicted]
    if rewriting:
        first = rewriting[0]
        return (
            f"the rehearsal measured that {first.change} rewrote {', '.join(first.rewritten)} "
            f"where no rewrite was predicted ({len(rewriting)} statements)"
        )
    return None


def show_rehearsal(results: list[Measured], console: Console) -> None:
    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False)

    say("Rehearsal on a copy of the managed tables' definitions (scratch server): converged")
    say(
        "  rows were not copied: locks and rewrites were measured on empty tables; what the "
        "target's rows do is the pre-flight's, shown beside each change"
    )
    shown: set[str] = set()
    for measured in results:
        say(f"  {measured.change}: {measured.sql}")
        predicted = f"predicted {measured.predicted.sql_name}"
        if measured.locks is None:
            took = "measured: not in a transaction, locks not measured"
        elif measured.locks:
            held = ", ".join(
                f"{lvl.sql_name} on {rel}" for rel, lvl in sorted(measured.locks.items())
            )
            took = f"measured {held}"
            if measured.strongest > measured.predicted:
                took += " (STRONGER than predicted)"
        else:
            took = "measured no table lock"
        rewrite = f"rewrote {', '.join(measured.rewritten)}" if measured.rewritten else "no rewrite"
        if measured.rewritten and not measured.rewrite_predicted:
            rewrite += " (NOT predicted)"
        say(f"      {predicted}; {took}; {rewrite}")
        if measured.change not in shown:
            shown.add(measured.change)
            for hazard in measured.preflight:
                say(f"      pre-flight on the target: {hazard.kind}: {hazard.detail}")
    failing = sorted({m.change for m in results if any(h.kind == "may_fail" for h in m.preflight)})
    if failing:
        say(
            f"  the apply would be refused: the pre-flight found rows that make "
            f"{', '.join(failing)} fail on the target, though the empty copy converged"
        )
