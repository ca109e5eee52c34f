"""Runs scratch steps in chunks that fit the scratch server's lock table, and reads them back.

Every relation created in a transaction holds a lock slot until the transaction ends, and
a server has `max_locks_per_transaction * (max_connections + max_prepared_transactions)`
of them for everyone: one transaction that creates 20,000 tables runs out ("out of shared
memory"). So the tables go in chunks, each created, read back and rolled back on its own.
A partition tree, and a table whose row type another declared column uses, stay in one
chunk. A chunk goes to the server as one multi-statement query; only when it fails is it
run statement by statement, so every error points at its declaration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from mmschema.confined import Confinement
from mmschema.connect import primary_message
from mmschema.desired.declared import InvalidFile
from mmschema.introspect import read_catalog_in_transaction
from mmschema.model import Catalog, QualifiedName
from mmschema.scratch_steps import ScratchStep

# Slots a table takes beyond one per step: its toast table and toast index, its row type.
TABLE_SLOTS = 4
# The share of the server's lock table one chunk may take (other sessions use it too).
LOCK_TABLE_SHARE = 2


class LockTableTooSmall(Exception):
    """A group of tables that must be created together does not fit the lock table."""


@dataclass
class Group:
    """Tables created together (a partition tree), with their steps in order."""

    names: list[QualifiedName] = field(default_factory=list)
    steps: list[ScratchStep] = field(default_factory=list)

    @property
    def slots(self) -> int:
        return TABLE_SLOTS * len(self.names) + len(self.steps)


def group_steps(
    steps: Sequence[ScratchStep],
    names: Sequence[QualifiedName],
    links: Iterable[tuple[QualifiedName, QualifiedName]],
) -> tuple[list[ScratchStep], list[Group]]:
    """The steps of no table (run in every chunk), and the tables' steps grouped by links."""
    root: dict[QualifiedName, QualifiedName] = {name: name for name in names}

    def find(name: QualifiedName) -> QualifiedName:
        while root[name] != name:
            root[name] = root[root[name]]
            name = root[name]
        return name

    for one, other in links:
        if one in root and other in root:
            root[find(one)] = find(other)
    preamble: list[ScratchStep] = []
    groups: dict[QualifiedName, Group] = {}
    for step in steps:
        if step.table is None or step.table not in root:
            preamble.append(step)
            continue
        group = groups.setdefault(find(step.table), Group())
        if step.table not in group.names:
            group.names.append(step.table)
        group.steps.append(step)
    for name in names:  # a table without steps is still read back (it is simply missing)
        group = groups.setdefault(find(name), Group())
        if name not in group.names:
            group.names.append(name)
    return preamble, list(groups.values())


def chunked(groups: Sequence[Group], budget: int) -> list[list[Group]]:
    """Consecutive groups, as many per chunk as fit the budget (a bigger group goes alone)."""
    chunks: list[list[Group]] = []
    current: list[Group] = []
    used = 0
    for group in groups:
        if current and used + group.slots > budget:
            chunks.append(current)
            current, used = [], 0
        current.append(group)
        used += group.slots
    if current:
        chunks.append(current)
    return chunks


def lock_budget(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """(slots one chunk may take, max_locks_per_transaction) of the scratch server."""
    row = conn.execute(
        "SELECT current_setting('max_locks_per_transaction')::int,"
        " current_setting('max_connections')::int"
        " + current_setting('max_prepared_transactions')::int"
    ).fetchone()
    per_transaction, backends = (int(row[0]), int(row[1])) if row else (64, 100)
    return max(per_transaction * backends // LOCK_TABLE_SHARE, 1), per_transaction


@dataclass
class ScratchRun:
    """One scratch session: the steps of no table, and the errors the server reported."""

    conn: psycopg.Connection[Any]
    preamble: list[ScratchStep]
    tolerate_errors: bool
    confinement: Confinement
    errors: list[str] = field(default_factory=list)

    def report(self, message: str) -> None:
        if message not in self.errors:  # a preamble error repeats in every chunk
            self.errors.append(message)

    def run_chunk(self, groups: Sequence[Group]) -> Catalog:
        """Create the groups' tables after the preamble, read them back, roll back."""
        with self.conn.transaction(force_rollback=True):
            self.confinement.open()
            self.run_steps(self.preamble)
            self.run_steps([step for group in groups for step in group.steps])
            names = [name for group in groups for name in group.names]
            return read_catalog_in_transaction(self.conn, names, what_reads=False)

    def run_steps(self, steps: Sequence[ScratchStep]) -> None:
        """All steps in one round trip; on an error, again one by one to place it.

        The privileged steps (CREATE EXTENSION) go first, as the session's own user."""
        steps = [s for s in steps if s.privileged] + [s for s in steps if not s.privileged]
        if not steps:
            return
        privileged = ";\n".join(s.statement for s in steps if s.privileged)
        confined = ";\n".join(s.statement for s in steps if not s.privileged)
        try:
            with self.conn.transaction():
                if privileged:
                    self.conn.execute(privileged.encode())
                if confined:
                    self.confinement.run(confined)
            return
        except pg_errors.OutOfMemory:
            raise
        except psycopg.Error:
            pass
        failed_tables: set[QualifiedName] = set()
        for step in steps:
            if step.table is not None and step.table in failed_tables:
                continue
            try:
                with self.conn.transaction():
                    if step.privileged:
                        self.conn.execute(step.statement.encode())
                    else:
                        self.confinement.run(step.statement)
            except pg_errors.OutOfMemory:
                raise
            except psycopg.Error as error:
                if step.optional:
                    continue
                if step.table is not None:
                    failed_tables.add(step.table)
                self.report(f"{step.source}: {primary_message(error)}{self._hint(step)}")

    def _hint(self, step: ScratchStep) -> str:
        """Where an extension is missing: on the scratch server, which another can replace."""
        if not step.privileged:
            return ""
        major = self.conn.info.server_version // 10000
        return (
            f" (on the scratch server, PostgreSQL {major}: give --dev-database a server "
            "that has the extension, as the target does)"
        )


def run_in_chunks(
    conn: psycopg.Connection[Any],
    steps: Sequence[ScratchStep],
    names: Sequence[QualifiedName],
    links: Iterable[tuple[QualifiedName, QualifiedName]] = (),
    tolerate_errors: bool = False,
    confinement: Confinement | None = None,
) -> Catalog:
    """The tables `steps` create, as the scratch server reads them back, chunk by chunk.

    The steps carrying SQL text run as `confinement` says (made by `confine`, in autocommit,
    before the session's first transaction); without it, inside a function all the same."""
    preamble, groups = group_steps(steps, names, links)
    budget, per_transaction = lock_budget(conn)
    conn.rollback()  # every chunk is a transaction of its own
    run = ScratchRun(conn, preamble, tolerate_errors, confinement or Confinement(conn, False))
    pending = chunked(groups, budget)
    catalogs: list[Catalog] = []
    while pending:
        chunk = pending.pop(0)
        try:
            catalogs.append(run.run_chunk(chunk))
        except pg_errors.OutOfMemory:
            if len(chunk) == 1:
                raise LockTableTooSmall(_too_small(chunk[0], per_transaction)) from None
            half = len(chunk) // 2
            pending[:0] = [chunk[:half], chunk[half:]]
    if run.errors and not tolerate_errors:
        raise InvalidFile(run.errors)
    if not catalogs:
        with conn.transaction(force_rollback=True):
            return read_catalog_in_transaction(conn, [], what_reads=False)
    return merged(catalogs)


def _too_small(group: Group, per_transaction: int) -> str:
    first = group.names[0] if group.names else "?"
    what = (
        f"table {first}"
        if len(group.names) == 1
        else (f"the {len(group.names)} tables of the partition tree of {first}")
    )
    return too_small_for(what, per_transaction)


def too_small_for(what: str, per_transaction: int) -> str:
    return (
        f"the scratch server's lock table is too small for {what}: raise "
        f"max_locks_per_transaction (now {per_transaction}) on the scratch server and restart it"
    )


def lock_table_too_small(conn: psycopg.Connection[Any], what: str) -> LockTableTooSmall:
    """The error for `what` not fitting the scratch server's lock table, after its rollback."""
    conn.rollback()
    return LockTableTooSmall(too_small_for(what, lock_budget(conn)[1]))


def merged(catalogs: Sequence[Catalog]) -> Catalog:
    """One catalog of the chunks' tables (the server-wide parts are each chunk's alike)."""
    tables = {}
    schemas: set[str] = set()
    extensions: set[str] = set()
    for catalog in catalogs:
        tables.update(catalog.tables)
        schemas |= catalog.schemas
        extensions |= catalog.extensions
    return replace(
        catalogs[0], tables=tables, schemas=frozenset(schemas), extensions=frozenset(extensions)
    )
