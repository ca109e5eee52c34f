"""Online type changes by expand/contract: a big table's rewriting ALTER COLUMN TYPE
becomes a shadow column kept in sync by a trigger, a batched backfill, concurrently built
indexes, and one short swap; each step is planned from what the catalog shows is done."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from mmschema import changes as ch
from mmschema.ddl.base import name_prefix
from mmschema.ddl.online import plain_cast
from mmschema.desired.declared import Settings
from mmschema.introspect import catalog_sql
from mmschema.model import Catalog, ForeignKey, Index, IndexKey, QualifiedName, Table

SHADOW_PREFIX = "_mms_new_"
TRIGGER_PREFIX = "_mms_sync_"
REWRITING = {"rewrite", "lossy", "no implicit cast"}


@dataclass(frozen=True)
class TableState:
    """What the catalog says about a table beyond the model: size, sync triggers, sequences."""

    rows: int
    triggers: frozenset[str]
    owned_sequences: tuple[tuple[str, str], ...]  # (column, sequence)


def read_state(
    conn: psycopg.Connection[Any], names: list[QualifiedName]
) -> dict[QualifiedName, TableState]:
    params = {"schemas": [n.schema for n in names], "names": [n.name for n in names]}
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        rows = conn.execute(catalog_sql("online_state"), params).fetchall()
    return {
        QualifiedName(schema, name): TableState(
            int(count or 0),
            frozenset(triggers),
            tuple(_pair(entry) for entry in owned),
        )
        for schema, name, count, triggers, owned in rows
    }


def _pair(entry: str) -> tuple[str, str]:
    column, _, sequence = entry.partition(" ")
    return column, sequence


def shadow_name(name: str) -> str:
    return name_prefix(SHADOW_PREFIX + name, 63)


def trigger_name(table: QualifiedName, column: str) -> str:
    digest = hashlib.sha256(f"{table}.{column}".encode()).hexdigest()[:12]
    return f"{TRIGGER_PREFIX}{digest}"


def is_shadow(name: str) -> bool:
    return name.startswith(SHADOW_PREFIX)


def without_shadows(live: Catalog) -> Catalog:
    """The catalog as the diff sees it: shadow columns, their indexes and checks hidden
    (the same object when there are none)."""
    if not any(is_shadow(c.name) for t in live.tables.values() for c in t.columns):
        return live
    tables = {}
    for name, table in live.tables.items():
        if not any(is_shadow(c.name) for c in table.columns):
            tables[name] = table
            continue
        tables[name] = replace(
            table,
            columns=tuple(c for c in table.columns if not is_shadow(c.name)),
            indexes=tuple(i for i in table.indexes if not is_shadow(i.name)),
            checks=tuple(c for c in table.checks if not is_shadow(c.name)),
        )
    return replace(live, tables=tables)


def _mentions(text: str | None, column: str) -> bool:
    """Whether printed SQL names the column (bare or quoted); may say yes too often."""
    if not text:
        return False
    bare = rf'(?<![\w"]){re.escape(column)}(?![\w"])'
    quoted = re.escape('"' + column.replace('"', '""') + '"')
    return re.search(f"{bare}|{quoted}", text) is not None


def refusal(table: Table, change: ch.AlterColumnType, changes: list[ch.Change]) -> str | None:
    """Why this type change cannot be made online, or None."""
    column = next((c for c in table.columns if c.name == change.column), None)
    if column is None:
        return "the column is renamed in the same plan"
    if table.partitioned or table.partition_of is not None:
        return "the table is partitioned or a partition"
    if column.generated is not None or any(
        c.generated and _mentions(c.generated, change.column) for c in table.columns
    ):
        return "stored generated columns read it"
    for other in changes:
        if isinstance(other, ch.DropView | ch.DropPolicy) and other.table == change.table:
            return "views or policies read it"
    if any(_mentions(c.expression, change.column) for c in table.checks):
        return "a check constraint reads it"
    if any(_mentions(x.definition, change.column) for x in table.exclusions):
        return "an exclusion constraint reads it"
    for index in table.indexes:
        if _mentions(index.where, change.column) or change.column in index.include:
            return f"index {index.name} reads it in its predicate or INCLUDE"
        if any(not k.is_column and _mentions(k.expr, change.column) for k in index.keys):
            return f"index {index.name} has an expression that reads it"
    if table.replica_identity == "index" or table.replica_identity.startswith("index:"):
        return "the table's replica identity is an index"
    return None


def _keys_on_shadow(keys: tuple[str, ...], column: str, shadow: str) -> tuple[IndexKey, ...]:
    return tuple(IndexKey(shadow if k == column else k) for k in keys)


def expand_contract(
    live: Catalog,
    changes: list[ch.Change],
    states: dict[QualifiedName, TableState],
    settings: Settings,
) -> list[ch.Change]:
    """Each rewriting type change of a big table as online steps; the foreign keys the
    diff drops and adds around it move into its swap; shadows the plan no longer wants
    are abandoned."""
    online: dict[tuple[QualifiedName, str], ch.AlterColumnType] = {}
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, ch.AlterColumnType):
            change = _decide(live, change, changes, states, settings, online)
        result.append(change)
    result = _follow_foreign_keys(live, result, online)
    fk_moves = _foreign_keys_moving(live, result, online)
    moved = list(fk_moves)  # in a fixed order: saved plans compare statements
    steps: list[ch.Change] = []
    first_swap: dict[tuple[QualifiedName, str], tuple[QualifiedName, str]] = {}
    last_swap: dict[tuple[QualifiedName, str], tuple[QualifiedName, str]] = {}
    for moving, (_, _, involved) in fk_moves.items():
        ordered = [k for k in online if k in involved]
        first_swap[moving] = ordered[0]
        last_swap[moving] = ordered[-1]
    for change in result:
        match change:
            case ch.DropConstraint(table=table, name=name, kind="foreign_key") if (
                table,
                name,
            ) in fk_moves:
                continue
            case ch.AddForeignKey(table=table, key=fk) if (table, fk.name) in fk_moves:
                continue
            case ch.AlterColumnType(table=table, column=column) if (table, column) in online:
                drops = tuple(k for k in moved if first_swap[k] == (table, column))
                adds = tuple(
                    (fk_moves[k][0], fk_moves[k][1])
                    for k in moved
                    if last_swap[k] == (table, column)
                )
                steps.extend(_steps(live, change, states, drops, adds))
                continue
        steps.append(change)
    return _abandoned(live, online, states) + one_pass_per_table(steps)


def _online_step(step: ch.Change) -> bool:
    match step:
        case ch.RetypeExpand() | ch.RetypeBackfill() | ch.RetypeSwap() | ch.RetypeAbandon():
            return True
        case ch.ValidateConstraint(name=name):
            return is_shadow(name)
        case ch.CreateIndex(index=index) | ch.RebuildInvalidIndex(index=index):
            return is_shadow(index.name)
    return False


def one_pass_per_table(steps: list[ch.Change]) -> list[ch.Change]:
    """A table's online type changes share one backfill: their expands first, then one
    pass that fills every shadow column, then the rest of each change in order."""
    tables = [s.table for s in steps if isinstance(s, ch.RetypeBackfill)]
    repeated = {t for t in tables if tables.count(t) > 1}
    if not repeated:
        return steps
    result: list[ch.Change] = []
    done: set[QualifiedName] = set()
    for step in steps:
        table = getattr(step, "table", None)
        if table not in repeated or not _online_step(step):
            result.append(step)
            continue
        if table in done:
            continue
        done.add(table)
        mine = [s for s in steps if getattr(s, "table", None) == table and _online_step(s)]
        expands = [s for s in mine if isinstance(s, ch.RetypeExpand | ch.RetypeAbandon)]
        fills = [s for s in mine if isinstance(s, ch.RetypeBackfill)]
        rest = [s for s in mine if s not in expands and s not in fills]
        progress = next((f.progress for f in fills if f.progress), None)
        merged = ch.RetypeBackfill(table, tuple(p for f in fills for p in f.parts), progress)
        result.extend([*expands, merged, *rest])
    return result


def _decide(
    live: Catalog,
    change: ch.AlterColumnType,
    changes: list[ch.Change],
    states: dict[QualifiedName, TableState],
    settings: Settings,
    online: dict[tuple[QualifiedName, str], ch.AlterColumnType],
) -> ch.AlterColumnType:
    table = live.tables.get(change.table)
    state = states.get(change.table)
    if table is None or state is None:
        return change
    rewrites = change.cast in REWRITING or change.using is not None
    if change.old_type == change.new_type or not rewrites:
        return change
    in_flight = any(c.name == shadow_name(change.column) for c in table.columns)
    if state.rows < settings.online_type_change_rows and not in_flight:
        return change
    reason = refusal(without_shadows(live).tables[change.table], change, changes)
    if reason is not None:
        return replace(change, online_refused=reason)
    online[(change.table, change.column)] = change
    return change


def _follow_foreign_keys(
    live: Catalog,
    changes: list[ch.Change],
    online: dict[tuple[QualifiedName, str], ch.AlterColumnType],
) -> list[ch.Change]:
    """A small table's column that a foreign key ties to an online column changes online
    too (the same way), so that the key moves in the swaps and nothing is rewritten."""
    links: dict[tuple[QualifiedName, str], set[tuple[QualifiedName, str]]] = {}
    outbound = [(t.name, k) for t in live.tables.values() for k in t.foreign_keys]
    for owner, key in [*outbound, *live.inbound_foreign_keys]:
        for mine, theirs in zip(key.columns, key.referenced_columns, strict=False):
            links.setdefault((owner, mine), set()).add((key.references, theirs))
            links.setdefault((key.references, theirs), set()).add((owner, mine))
    result: list[ch.Change] = []
    for change in changes:
        if (
            isinstance(change, ch.AlterColumnType)
            and (change.table, change.column) not in online
            and change.online_refused is None
            and change.old_type != change.new_type
            and (change.cast in REWRITING or change.using is not None)
            and links.get((change.table, change.column), set()) & set(online)
        ):
            table = live.tables.get(change.table)
            reason = (
                refusal(without_shadows(live).tables[change.table], change, changes)
                if table is not None
                else "the table is new"
            )
            if reason is None:
                online[(change.table, change.column)] = change
            else:
                change = replace(change, online_refused=reason)
        result.append(change)
    return result


def _foreign_keys_moving(
    live: Catalog,
    changes: list[ch.Change],
    online: dict[tuple[QualifiedName, str], ch.AlterColumnType],
) -> dict[
    tuple[QualifiedName, str], tuple[QualifiedName, ForeignKey, set[tuple[QualifiedName, str]]]
]:
    """Foreign keys on either side of an online column: (owner, name) -> (owner, the key as
    it is added back, the online columns it involves)."""
    added = {(c.table, c.key.name): c.key for c in changes if isinstance(c, ch.AddForeignKey)}
    outbound = [(t.name, k) for t in live.tables.values() for k in t.foreign_keys]
    moving: dict[
        tuple[QualifiedName, str], tuple[QualifiedName, ForeignKey, set[tuple[QualifiedName, str]]]
    ] = {}
    for owner, key in [*outbound, *live.inbound_foreign_keys]:
        involved = {(owner, c) for c in key.columns} | {
            (key.references, c) for c in key.referenced_columns
        }
        involved &= set(online)
        if not involved:
            continue
        wanted = added.get((owner, key.name), key)
        entry = moving.setdefault((owner, key.name), (owner, wanted, set()))
        entry[2].update(involved)
    return moving


def _steps(
    live: Catalog,
    change: ch.AlterColumnType,
    states: dict[QualifiedName, TableState],
    drop_foreign_keys: tuple[tuple[QualifiedName, str], ...],
    add_foreign_keys: tuple[tuple[QualifiedName, ForeignKey], ...],
) -> list[ch.Change]:
    full = live.tables[change.table]
    table = without_shadows(live).tables[change.table]
    name, column = change.table, change.column
    shadow = shadow_name(column)
    trigger = trigger_name(name, column)
    state = states[name]
    have_shadow = next((c for c in full.columns if c.name == shadow), None)
    value = change.using or plain_cast(column, change.new_type)
    steps: list[ch.Change] = []
    if have_shadow is not None and have_shadow.type != change.new_type:
        steps.append(ch.RetypeAbandon(name, column, shadow, trigger))
        have_shadow = None
    has_trigger = have_shadow is not None and trigger in state.triggers
    live_column = next(c for c in table.columns if c.name == column)
    in_key = table.primary_key is not None and column in table.primary_key.columns
    not_null_check = None
    add_check = None
    current = None
    if not live_column.nullable or in_key:
        not_null_check = shadow_name(f"{column}_not_null")
        current = next((c for c in full.checks if c.name == not_null_check), None)
        if have_shadow is None or current is None:
            add_check = not_null_check
    if have_shadow is None or not has_trigger or add_check is not None:
        steps.append(
            ch.RetypeExpand(
                name,
                column,
                shadow,
                change.new_type,
                value,
                trigger,
                add_column=have_shadow is None,
                add_trigger=not has_trigger,
                check=add_check,
            )
        )
    progress = None
    if have_shadow is not None:
        progress = f"shadow column {shadow} from an earlier apply" + (
            " and its sync trigger in place" if has_trigger else "; its trigger is added again"
        )
    steps.append(ch.RetypeBackfill(name, ((column, shadow, value),), progress))
    if not_null_check is not None and (
        add_check is not None or current is None or not current.valid
    ):
        steps.append(ch.ValidateConstraint(name, not_null_check))
    built: list[tuple[str, Index]] = []
    for index in table.indexes:
        if any(k.is_column and k.expr == column for k in index.keys):
            keys = tuple(
                replace(k, expr=shadow) if k.is_column and k.expr == column else k
                for k in index.keys
            )
            built.append((index.name, replace(index, name=shadow_name(index.name), keys=keys)))
    primary_key = None
    if table.primary_key is not None and in_key:
        pk = table.primary_key
        keys = _keys_on_shadow(pk.columns, column, shadow)
        index = Index(shadow_name(pk.name), keys, unique=True)
        built.append(("", index))
        primary_key = (pk.name, index.name)
    unique = []
    for constraint in table.unique:
        if column in constraint.columns:
            keys = _keys_on_shadow(constraint.columns, column, shadow)
            index = Index(
                shadow_name(constraint.name),
                keys,
                unique=True,
                nulls_distinct=constraint.nulls_distinct,
            )
            built.append(("", index))
            unique.append((constraint, index.name))
    for _, index in built:
        current_index = next((i for i in full.indexes if i.name == index.name), None)
        if current_index is None:
            steps.append(ch.CreateIndex(name, index, concurrently=True))
        elif not current_index.valid:
            steps.append(ch.RebuildInvalidIndex(name, index, concurrently=True))
    locked = tuple(
        dict.fromkeys(t for t, _ in (*drop_foreign_keys, *add_foreign_keys) if t != name)
    )
    steps.append(
        ch.RetypeSwap(
            name,
            column,
            shadow,
            change.new_type,
            trigger,
            not_null_check=not_null_check,
            default=change.new_default if change.old_default is not None else live_column.default,
            comment=live_column.comment,
            sequences=tuple(s for c, s in state.owned_sequences if c == column),
            identity=live_column.identity,
            identity_options=live_column.identity_options,
            primary_key=primary_key,
            unique=tuple(unique),
            indexes=tuple((old, index.name) for old, index in built if old),
            locked=locked,
            drop_foreign_keys=drop_foreign_keys,
            add_foreign_keys=add_foreign_keys,
        )
    )
    return steps


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _abandoned(
    live: Catalog,
    online: dict[tuple[QualifiedName, str], ch.AlterColumnType],
    states: dict[QualifiedName, TableState],
) -> list[ch.Change]:
    """Shadow columns of online changes the plan no longer makes: dropped with their trigger."""
    result: list[ch.Change] = []
    for name, table in live.tables.items():
        for column in table.columns:
            if not is_shadow(column.name):
                continue
            original = column.name[len(SHADOW_PREFIX) :]
            if (name, original) in online:
                continue
            trigger = trigger_name(name, original)
            state = states.get(name)
            present = state is not None and trigger in state.triggers
            progress = f"shadow column {column.name} left by an earlier apply, not swapped in"
            if not present:
                progress += " (its trigger is gone)"
            result.append(ch.RetypeAbandon(name, original, column.name, trigger, progress))
    return result
