"""The table family as a registered kind: each pipeline step's hook, over the Catalog's tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from mmschema import changes as ch
from mmschema.desired.build import Context
from mmschema.desired.declared import DeclaredTable, DesiredState
from mmschema.expand import copies_in_flight, expand_contract, read_state, without_shadows
from mmschema.inflight import unfinished_backfills
from mmschema.kinds.base import ScratchStep
from mmschema.kinds.sequences import ManagedSequence
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables import (
    columns,
    constraints,
    copy_ddl,
    dependents,
    identity,
    indexes,
    online,
    partitions,
    tables,
)
from mmschema.kinds.tables.constraint_comments import with_constraint_comments
from mmschema.kinds.tables.declare import build_table
from mmschema.kinds.tables.dump import standalone_sequences, table_document, table_key
from mmschema.kinds.tables.inheritance import InheritanceRefusal, inheritance_refusals
from mmschema.kinds.tables.model import Table
from mmschema.kinds.tables.namespace import drops_that_make_room
from mmschema.kinds.tables.normalize import (
    declared_foreign_keys,
    declared_options,
    desired_links,
    reprinted_as_live,
)
from mmschema.kinds.tables.notnull_names import with_not_null_names_renamed
from mmschema.kinds.tables.owned_sequences import (
    with_identity_sequences_renamed,
    with_owned_sequences_dropped,
    with_owned_sequences_retyped,
    with_restarts,
)
from mmschema.kinds.tables.read import Meanwhile, TablesRead, read_tables
from mmschema.kinds.tables.scratch import live_table_steps, table_steps
from mmschema.kinds.tables.typecast import classify_type_changes
from mmschema.kinds.tables.volatility import Domain, DomainLike, with_rewriting_columns
from mmschema.model import Catalog, QualifiedName
from mmschema.snapshot_helper import SnapshotHelper

# The family's modules: their DDL and hazards register as they are imported.
FAMILY = (tables, columns, identity, constraints, indexes, partitions, online, copy_ddl)


class TableKind:
    """Tables, columns, indexes, constraints and partitions: the Catalog's `tables`, read in
    the catalog's snapshot, normalized by shape, compared with the file's renames."""

    file_key = "tables"

    def build(self, context: Context, key: str, spec: dict[str, object]) -> DeclaredTable:
        return build_table(context, key, spec)

    def managed_names(self, declared: DesiredState) -> list[QualifiedName]:
        """Every live name the file may be talking about, old names of renames included."""
        names: list[QualifiedName] = []
        for table in declared.tables:
            names.append(table.name)
            if table.renamed_from is not None:
                names.append(table.renamed_from)
        return list(dict.fromkeys(names))

    def read(
        self,
        conn: psycopg.Connection[Any],
        names: Sequence[QualifiedName],
        helper: SnapshotHelper | None = None,
        meanwhile: Meanwhile | None = None,
    ) -> TablesRead:
        params = {"schemas": [n.schema for n in names], "names": [n.name for n in names]}
        return read_tables(conn, params, conn.info.server_version, helper, meanwhile)

    def scratch_steps(self, declared: DesiredState) -> list[ScratchStep]:
        return [step for table in declared.present_tables() for step in table_steps(table)]

    def live_steps(self, live: Catalog) -> list[ScratchStep]:
        return live_table_steps(live)

    def links(self, declared: DesiredState) -> list[tuple[QualifiedName, QualifiedName]]:
        return desired_links(declared)

    def as_declared(
        self, printed: dict[QualifiedName, Table], declared: DesiredState, live: Catalog
    ) -> dict[QualifiedName, Table]:
        """The tables as the scratch server printed them, with what the file's words decide."""
        by_name = {t.name: t for t in declared.present_tables()}
        wanted = Catalog(tables=printed)
        return {
            name: declared_options(
                table, by_name[name], declared_foreign_keys(by_name[name], wanted, live)
            )
            for name, table in printed.items()
        }

    def as_live(self, live: Catalog, reprinted: Catalog) -> dict[QualifiedName, Table]:
        return {
            name: reprinted_as_live(table, reprinted.tables.get(name))
            for name, table in live.tables.items()
        }

    def diff(
        self,
        live: Catalog,
        desired: Catalog,
        declared: DesiredState,
        prune: bool,
        new_schemas: set[str],
    ) -> tuple[list[ch.Change], list[str]]:
        found = tables.diff_tables(live, desired, declared, prune, new_schemas)
        return found.changes, found.unmanaged

    def arranged(
        self, live: Catalog, desired: Catalog, changes: list[ch.Change]
    ) -> list[ch.Change]:
        """The plan's changes with what the table changes need around them: names freed
        first, foreign keys, indexes, generated columns, views and policies dropped and made
        again around a key replacement or a type change."""
        changes = drops_that_make_room(live, changes)
        changes = dependents.rebuild_dependent_foreign_keys(live, desired, changes)
        changes = dependents.split_replacements_over_retyped_columns(changes)
        changes = dependents.regenerate_over_retyped_columns(live, desired, changes)
        changes = dependents.rebuild_dependent_views(live, changes)
        changes = with_constraint_comments(live, desired, changes)
        return partitions.validated_per_partition(changes, live, desired)

    def needs_dependents(self, changes: list[ch.Change]) -> bool:
        return dependents.needs_dependents(changes)

    def without_work_in_flight(self, live: Catalog) -> Catalog:
        return without_shadows(live)

    def completed(
        self,
        conn: psycopg.Connection[Any],
        live: Catalog,
        declared: DesiredState,
        changes: list[ch.Change],
        in_flight: bool,
    ) -> list[ch.Change]:
        """The plan's changes completed with what only the target tells (read only): type
        changes classified, sequences restarted, dropped, retyped or renamed with their
        columns, NOT NULL names renamed along, rewriting columns marked, type changes made
        online, unfinished backfills resumed; changes to inherited tables refused."""
        refused = inheritance_refusals(conn, declared, changes)
        if refused:
            raise InheritanceRefusal(refused)
        changes = classify_type_changes(conn, changes)
        changes = with_restarts(conn, changes)
        sequences = {
            o.key
            for o in declared.objects
            if isinstance(o, ManagedSequence) and o.state == "present"
        }
        changes = with_owned_sequences_dropped(conn, changes, sequences)
        changes = with_owned_sequences_retyped(conn, changes, sequences)
        changes = with_identity_sequences_renamed(conn, changes)
        changes = with_not_null_names_renamed(conn, changes)
        changes = with_rewriting_columns(conn, changes, domains_by_spelling(live, declared))
        retyping = any(isinstance(c, cc.AlterColumnType) for c in changes)
        if in_flight or retyping or (live.tables and copies_in_flight(conn)):
            states = read_state(conn, self.managed_names(declared))
            changes = expand_contract(live, changes, states, declared.settings)
        return [*unfinished_backfills(conn), *changes]

    def document(
        self, catalog: Catalog, conn: psycopg.Connection[Any] | None = None
    ) -> dict[str, Any]:
        """The file's `tables` section that declares these tables as they are (`conn`, the
        target's, tells a standalone sequence named like a serial's from the serial's)."""
        standalone = standalone_sequences(conn, catalog) if conn is not None else set()
        return {
            table_key(t.name): table_document(
                t, standalone, catalog.tables.get(t.partition_of) if t.partition_of else None
            )
            for t in catalog.tables.values()
        }


TABLES = TableKind()


def domains_by_spelling(live: Catalog, declared: DesiredState) -> dict[str, Domain]:
    """The target's domains, and the file's (made or changed before the tables), under
    each name a column's type may print them as."""
    found: dict[str, Domain] = {}
    for user_type in live.types:
        if user_type.kind == "domain":
            constrained = bool(user_type.checks) or user_type.not_null
            domain = Domain(user_type.default, constrained, user_type.base_type or "")
            found.update(dict.fromkeys(_spellings(user_type.name), domain))
    for item in declared.objects:
        # (domains.ManagedDomain, whose module the tables' cannot import: a cycle)
        if isinstance(item, DomainLike) and item.state == "present":
            constrained = bool(item.checks) or item.not_null
            domain = Domain(item.default, constrained, item.base_type)
            found.update(dict.fromkeys(_spellings(item.name), domain))
    return found


def _spellings(name: QualifiedName) -> list[str]:
    """`schema.name`, and `name` alone for public (as format_type prints it there)."""
    return [str(name), *([name.name] if name.schema == "public" else [])]
