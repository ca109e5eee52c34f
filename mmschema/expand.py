"""Online type changes by expand/contract: a big table's rewriting ALTER COLUMN TYPE
becomes a shadow column kept in sync by a trigger, a batched backfill, concurrently built
indexes, and one short swap; each step is planned from what the catalog shows is done."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import psycopg

from mmschema import changes as ch
from mmschema.catalogsql import table_sql
from mmschema.copyswap import copies_abandoned, copy_refusal, copy_steps
from mmschema.desired.declared import Settings
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables import copy_changes as xc
from mmschema.kinds.tables.dependents import policies_reading, views_reading
from mmschema.kinds.tables.model import Check, ForeignKey, Index, IndexKey
from mmschema.kinds.tables.online import plain_cast
from mmschema.kinds.tables.renames import renamed_expression
from mmschema.model import Catalog, ColumnTrigger, QualifiedName, View
from mmschema.online_names import (
    COPY_PREFIX,
    SHADOW_PREFIX,
    Replaced,
    TableState,
    as_made,
    copy_name,
    is_shadow,
    shadow_name,
    trigger_name,
    unique_index_under_shadow_name,
)

REWRITING = {"rewrite", "lossy", "no implicit cast"}


def read_state(
    conn: psycopg.Connection[Any], names: list[QualifiedName]
) -> dict[QualifiedName, TableState]:
    params = {
        "schemas": [n.schema for n in names],
        "names": [n.name for n in names],
        "copies": [copy_name(n.name) for n in names],
    }
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        # trigger definitions with every name qualified, as the catalog read prints them
        conn.execute("SELECT set_config('search_path', 'pg_catalog', true)")
        rows = conn.execute(table_sql("online_state"), params).fetchall()
    return {
        QualifiedName(row[0], row[1]): TableState(
            int(row[2] or 0),
            frozenset(row[3]),
            tuple(_pair(entry) for entry in row[4]),
            tuple(row[5]),
            bool(row[6]),
            tuple((entry.rpartition(" ")[0], entry.endswith(" true")) for entry in row[7]),
            row[8],
            row[9],
            _privileges(row[10]),
            _privileges(row[11]),
            tuple(ColumnTrigger(*entry) for entry in row[12]),
            frozenset(QualifiedName(*entry) for entry in row[13]),
        )
        for row in rows
    }


def _privileges(entries: list[list[str]]) -> tuple[tuple[str, str, str, bool], ...]:
    """[grantee, privilege, column, grantable] entries, in a fixed order."""
    return tuple(sorted((g, p, c, flag == "true") for g, p, c, flag in entries))


def copies_in_flight(conn: psycopg.Connection[Any]) -> bool:
    """Whether any schema holds a copy of an online type change (cheap: one catalog probe)."""
    with conn.transaction():  # not left open: apply's statements follow on this connection
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname LIKE %s AND relkind = 'r')",
            (COPY_PREFIX.replace("_", "\\_") + "%",),
        ).fetchone()
    return bool(row and row[0])


def _pair(entry: str) -> tuple[str, str]:
    column, _, sequence = entry.partition(" ")
    return column, sequence


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


def index_reads(index: Index, column: str) -> bool:
    """Whether an index reads the column: as a key, in an expression, predicate or INCLUDE."""
    return (
        any(k.expr == column if k.is_column else _mentions(k.expr, column) for k in index.keys)
        or column in index.include
        or _mentions(index.where, column)
    )


def refusal(live: Catalog, change: cc.AlterColumnType, changes: list[ch.Change]) -> str | None:
    """Why this type change cannot be made online, or None."""
    table = without_shadows(live).tables[change.table]
    column = next((c for c in table.columns if c.name == change.column), None)
    if column is None:
        return "the column is renamed in the same plan"
    if table.partitioned or table.partition_of is not None:
        return "the table is partitioned or a partition"
    if column.generated is not None or any(
        c.generated and _mentions(c.generated, change.column) for c in table.columns
    ):
        return "stored generated columns read it (adding one back rewrites the table)"
    if any(not v.rebuildable for v in views_reading(live.views, {(table.name, column.name)})):
        return "a view that cannot be made again as it was (rules, triggers) reads it"
    if any((table.name, column.name) in r.reads for r in live.column_readers):
        return "a rule or a BEGIN ATOMIC routine reads it"
    if any(_mentions(x.definition, change.column) for x in table.exclusions):
        return "an exclusion constraint reads it"
    others = {
        c.column
        for c in changes
        if isinstance(c, cc.AlterColumnType) and c.table == change.table and c != change
    }
    for check in table.checks:
        shared = sorted(o for o in others if _mentions(check.expression, o))
        if shared and _mentions(check.expression, change.column):
            return f"check {check.name} also reads {shared[0]}, whose type changes too"
    for index in table.indexes:
        shared = sorted(o for o in others if index_reads(index, o))
        if shared and index_reads(index, change.column):
            return f"index {index.name} also reads {shared[0]}, whose type changes too"
    if table.replica_identity == "index" or table.replica_identity.startswith("index:"):
        return "the table's replica identity is an index"
    return None


def _on_shadow(index: Index, column: str, shadow: str) -> Index:
    """The index as it is built over the shadow column, under the shadow's name."""
    mapping = {column: shadow}
    keys = tuple(
        replace(k, expr=shadow if k.expr == column else k.expr)
        if k.is_column
        else replace(k, expr=renamed_expression(k.expr, mapping))
        for k in index.keys
    )
    return replace(
        index,
        name=shadow_name(index.name),
        keys=keys,
        include=tuple(shadow if c == column else c for c in index.include),
        where=renamed_expression(index.where, mapping) if index.where else None,
        valid=True,
    )


def replaced_on(table: QualifiedName, changes: list[ch.Change]) -> Replaced:
    dropped_indexes = {
        c.index.name for c in changes if isinstance(c, tc.DropIndex) and c.table == table
    }
    dropped_checks = {
        c.name
        for c in changes
        if isinstance(c, tc.DropConstraint) and c.table == table and c.kind == "check"
    }
    indexes = {
        c.index.name: c.index
        for c in changes
        if isinstance(c, tc.CreateIndex) and c.table == table and c.index.name in dropped_indexes
    }
    checks = {
        c.check.name: c.check
        for c in changes
        if isinstance(c, tc.AddCheck) and c.table == table and c.check.name in dropped_checks
    }
    gone = (dropped_indexes - set(indexes)) | (dropped_checks - set(checks))
    views = tuple(c.view for c in changes if isinstance(c, cc.CreateView) and c.table == table)
    return Replaced(indexes, checks, frozenset(gone), views)


def _taken_over(change: ch.Change, taken: set[tuple[QualifiedName, str]]) -> bool:
    """Whether the diff's step is for an index or check an online change rebuilds itself,
    or for a view or policy its swap makes again."""
    match change:
        case tc.DropIndex(table=table, index=index) | tc.CreateIndex(table=table, index=index):
            return (table, index.name) in taken
        case tc.DropConstraint(table=table, name=name, kind="check"):
            return (table, name) in taken
        case tc.AddCheck(table=table, check=check):
            return (table, check.name) in taken
        case tc.ValidateConstraint(table=table, name=name):
            return (table, name) in taken
        case cc.DropView(table=table) | cc.CreateView(table=table):
            return (table, "") in taken
        case cc.DropPolicy(table=table) | cc.CreatePolicy(table=table):
            return (table, "") in taken
    return False


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
    online: dict[tuple[QualifiedName, str], cc.AlterColumnType] = {}
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, cc.AlterColumnType):
            change = _decide(live, change, changes, states, settings, online)
        elif isinstance(change, cc.RetypeUnderGenerated):
            change = _under_generated(change, states, settings)
        result.append(change)
    result = _follow_foreign_keys(live, result, online)
    result = _mixed_tables_stay_plain(result, online)
    taken = _taken(live, result, online)
    result = [c for c in result if not _taken_over(c, taken)]
    fk_moves = _foreign_keys_moving(live, result, online)
    moved = list(fk_moves)  # in a fixed order: saved plans compare statements
    replaced = {t: replaced_on(t, changes) for t, _ in online}
    live = _without_pruned_views(live, changes)
    steps: list[ch.Change] = []
    first_swap: dict[tuple[QualifiedName, str], tuple[QualifiedName, str]] = {}
    last_swap: dict[tuple[QualifiedName, str], tuple[QualifiedName, str]] = {}
    for moving, (_, _, involved) in fk_moves.items():
        ordered = [k for k in online if k in involved]
        first_swap[moving] = ordered[0]
        last_swap[moving] = ordered[-1]
    copied, refused = _copied(live, result, online, states, settings, replaced)
    for change in result:
        match change:
            case tc.DropConstraint(table=table, name=name, kind="foreign_key") if (
                table,
                name,
            ) in fk_moves:
                continue
            case tc.AddForeignKey(table=table, key=fk) if (table, fk.name) in fk_moves:
                continue
            case cc.DropTrigger(table=table) | cc.CreateTrigger(table=table) if table in copied:
                continue  # its swap makes them again
            case cc.AlterColumnType(table=table) if table in copied:
                if copied[table]:
                    retypes = copied.pop(table)
                    steps.extend(
                        copy_steps(
                            live,
                            table,
                            retypes,
                            states[table],
                            tuple(k for k in moved if first_swap[k][0] == table),
                            tuple(
                                (fk_moves[k][0], fk_moves[k][1])
                                for k in moved
                                if last_swap[k][0] == table
                            ),
                            set(fk_moves),
                            replaced[table],
                        )
                    )
                    copied[table] = []
                continue
            case cc.AlterColumnType(table=table, column=column) if (table, column) in online:
                drops = tuple(k for k in moved if first_swap[k] == (table, column))
                adds = tuple(
                    (fk_moves[k][0], fk_moves[k][1])
                    for k in moved
                    if last_swap[k] == (table, column)
                )
                found = _steps(live, change, states, drops, adds, replaced[table])
                steps.extend(
                    replace(s, copy_refused=refused.get(table))
                    if isinstance(s, cc.RetypeExpand)
                    else s
                    for s in found
                )
                continue
        steps.append(change)
    abandoned = copies_abandoned(live, set(copied), states)
    steps = one_pass_per_table(steps)
    # the analyzes after every swap
    steps = sorted(steps, key=lambda s: isinstance(s, xc.AnalyzeTable))
    return abandoned + _abandoned(live, online, states) + steps


def _copied(
    live: Catalog,
    changes: list[ch.Change],
    online: dict[tuple[QualifiedName, str], cc.AlterColumnType],
    states: dict[QualifiedName, TableState],
    settings: Settings,
    replaced: dict[QualifiedName, Replaced],
) -> tuple[dict[QualifiedName, list[cc.AlterColumnType]], dict[QualifiedName, str]]:
    """The tables whose online type changes copy them into a new table, with those changes;
    and for the others, why they take shadow columns instead."""
    result: dict[QualifiedName, list[cc.AlterColumnType]] = {}
    refused: dict[QualifiedName, str] = {}
    for table in dict.fromkeys(t for t, _ in online):
        reason = copy_refusal(
            live, table, changes, set(online), states[table], settings, replaced[table]
        )
        if reason is None:
            result[table] = [c for (t, _), c in online.items() if t == table]
        elif settings.online_type_change_method == "copy":  # not when shadow is chosen
            refused[table] = reason
    return result, refused


def _without_pruned_views(live: Catalog, changes: list[ch.Change]) -> Catalog:
    """The catalog without the views --prune drops first: a swap does not make them again."""
    pruned = {
        view.name
        for c in changes
        if c.phase == ch.Phase.DROP_UNMANAGED and isinstance(view := getattr(c, "view", None), View)
    }
    if not pruned:
        return live
    return replace(live, views=tuple(v for v in live.views if v.name not in pruned))


def _mixed_tables_stay_plain(
    changes: list[ch.Change], online: dict[tuple[QualifiedName, str], cc.AlterColumnType]
) -> list[ch.Change]:
    """Views and policies are made again around a table's plain ALTERs in one transaction:
    where some of its type changes stay plain, the others do too."""
    plain = {
        c.table
        for c in changes
        if isinstance(c, cc.AlterColumnType) and (c.table, c.column) not in online
    }
    blocked = {
        c.table for c in changes if isinstance(c, cc.DropView | cc.DropPolicy) and c.table in plain
    }
    if not blocked:
        return changes
    reason = "views or policies read it, and another column of the table changes plainly"
    result: list[ch.Change] = []
    for change in changes:
        if (
            isinstance(change, cc.AlterColumnType)
            and change.table in blocked
            and online.pop((change.table, change.column), None) is not None
        ):
            change = replace(change, online_refused=reason)
        result.append(change)
    return result


def _taken(
    live: Catalog,
    changes: list[ch.Change],
    online: dict[tuple[QualifiedName, str], cc.AlterColumnType],
) -> set[tuple[QualifiedName, str]]:
    """(table, name) of the indexes and checks online changes build over their shadows, and
    (table, "") for tables whose views and policies their swaps make again."""
    taken: set[tuple[QualifiedName, str]] = set()
    for name, column in online:
        table = without_shadows(live).tables[name]
        gone = replaced_on(name, changes).gone
        taken.add((name, ""))
        taken.update(
            (name, i.name) for i in table.indexes if index_reads(i, column) and i.name not in gone
        )
        taken.update(
            (name, c.name)
            for c in table.checks
            if _mentions(c.expression, column) and c.name not in gone
        )
    return taken


def _online_step(step: ch.Change) -> bool:
    match step:
        case cc.RetypeExpand() | cc.RetypeBackfill() | cc.RetypeSwap() | cc.RetypeAbandon():
            return True
        case tc.ValidateConstraint(name=name):
            return is_shadow(name)
        case tc.CreateIndex(index=index) | tc.RebuildInvalidIndex(index=index):
            return is_shadow(index.name)
    return False


def one_pass_per_table(steps: list[ch.Change]) -> list[ch.Change]:
    """A table's online type changes share one backfill: their expands first, then one
    pass that fills every shadow column, then the rest of each change in order."""
    tables = [s.table for s in steps if isinstance(s, cc.RetypeBackfill)]
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
        expands = [s for s in mine if isinstance(s, cc.RetypeExpand | cc.RetypeAbandon)]
        fills = [s for s in mine if isinstance(s, cc.RetypeBackfill)]
        rest = [s for s in mine if s not in expands and s not in fills]
        progress = next((f.progress for f in fills if f.progress), None)
        merged = cc.RetypeBackfill(table, tuple(p for f in fills for p in f.parts), progress)
        result.extend([*expands, merged, *rest])
    return result


def _decide(
    live: Catalog,
    change: cc.AlterColumnType,
    changes: list[ch.Change],
    states: dict[QualifiedName, TableState],
    settings: Settings,
    online: dict[tuple[QualifiedName, str], cc.AlterColumnType],
) -> cc.AlterColumnType:
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
    reason = refusal(live, change, changes)
    if reason is not None:
        return replace(change, online_refused=reason)
    online[(change.table, change.column)] = change
    return change


def _under_generated(
    change: cc.RetypeUnderGenerated, states: dict[QualifiedName, TableState], settings: Settings
) -> cc.RetypeUnderGenerated:
    """A big table's type changes under stored generated columns stay plain: adding such a
    column back rewrites the table whatever is done first; their hazard says so."""
    state = states.get(change.table)
    if state is None or state.rows < settings.online_type_change_rows:
        return change
    reason = "stored generated columns read it (adding one back rewrites the table)"
    retypes = tuple(
        replace(r, online_refused=reason) if r.old_type != r.new_type else r for r in change.retypes
    )
    return replace(change, retypes=retypes)


def _follow_foreign_keys(
    live: Catalog,
    changes: list[ch.Change],
    online: dict[tuple[QualifiedName, str], cc.AlterColumnType],
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
            isinstance(change, cc.AlterColumnType)
            and (change.table, change.column) not in online
            and change.online_refused is None
            and change.old_type != change.new_type
            and (change.cast in REWRITING or change.using is not None)
            and links.get((change.table, change.column), set()) & set(online)
        ):
            table = live.tables.get(change.table)
            reason = refusal(live, change, changes) if table is not None else "the table is new"
            if reason is None:
                online[(change.table, change.column)] = change
            else:
                change = replace(change, online_refused=reason)
        result.append(change)
    return result


def _foreign_keys_moving(
    live: Catalog,
    changes: list[ch.Change],
    online: dict[tuple[QualifiedName, str], cc.AlterColumnType],
) -> dict[
    tuple[QualifiedName, str], tuple[QualifiedName, ForeignKey, set[tuple[QualifiedName, str]]]
]:
    """Foreign keys on either side of an online column: (owner, name) -> (owner, the key as
    it is added back, the online columns it involves)."""
    added = {(c.table, c.key.name): c.key for c in changes if isinstance(c, tc.AddForeignKey)}
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
    change: cc.AlterColumnType,
    states: dict[QualifiedName, TableState],
    drop_foreign_keys: tuple[tuple[QualifiedName, str], ...],
    add_foreign_keys: tuple[tuple[QualifiedName, ForeignKey], ...],
    replaced: Replaced,
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
        steps.append(cc.RetypeAbandon(name, column, shadow, trigger))
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
    checks: list[tuple[str, Check]] = []  # (check name, its twin over the shadow)
    for check in table.checks:
        if _mentions(check.expression, column) and check.name not in replaced.gone:
            wanted = replaced.checks.get(check.name, check)
            expression = renamed_expression(wanted.expression, {column: shadow})
            checks.append(
                (check.name, replace(wanted, name=shadow_name(check.name), expression=expression))
            )
    have_checks = {c.name: c for c in full.checks} if have_shadow is not None else {}
    add_checks = tuple(
        (twin.name, twin.expression) for _, twin in checks if twin.name not in have_checks
    )
    if have_shadow is None or not has_trigger or add_check is not None or add_checks:
        steps.append(
            cc.RetypeExpand(
                name,
                column,
                shadow,
                change.new_type,
                value,
                trigger,
                add_column=have_shadow is None,
                add_trigger=not has_trigger,
                check=add_check,
                checks=add_checks,
            )
        )
    progress = None
    if have_shadow is not None:
        progress = f"shadow column {shadow} from an earlier apply" + (
            " and its sync trigger in place" if has_trigger else "; its trigger is added again"
        )
    steps.append(cc.RetypeBackfill(name, ((column, shadow, value),), progress))
    if not_null_check is not None and (
        add_check is not None or current is None or not current.valid
    ):
        steps.append(tc.ValidateConstraint(name, not_null_check))
    for _, twin in checks:
        current_check = have_checks.get(twin.name)
        if twin.valid and (current_check is None or not current_check.valid):
            steps.append(tc.ValidateConstraint(name, twin.name))
    built: list[tuple[str, Index]] = [
        (index.name, _on_shadow(replaced.indexes.get(index.name, index), column, shadow))
        for index in table.indexes
        if index_reads(index, column) and index.name not in replaced.gone
    ]
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
            index = unique_index_under_shadow_name(constraint, keys)
            built.append(("", index))
            unique.append((constraint, index.name))
    for _, index in built:
        current_index = next((i for i in full.indexes if i.name == index.name), None)
        if current_index is None:
            steps.append(tc.CreateIndex(name, index, concurrently=True))
        elif not current_index.valid:
            steps.append(tc.RebuildInvalidIndex(name, index, concurrently=True))
    locked = tuple(
        dict.fromkeys(t for t, _ in (*drop_foreign_keys, *add_foreign_keys) if t != name)
    )
    steps.append(
        cc.RetypeSwap(
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
            checks=tuple((old, twin.name) for old, twin in checks),
            views=tuple(as_made(views_reading(live.views, {(name, column)}), replaced)),
            policies=tuple(p for _, p in policies_reading(live, {(name, column)})),
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
    online: dict[tuple[QualifiedName, str], cc.AlterColumnType],
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
            result.append(cc.RetypeAbandon(name, original, column.name, trigger, progress))
    return result
