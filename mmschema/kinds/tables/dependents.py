"""Changes that other changes need around them: foreign keys dropped and added again
around a key replacement or a type change; indexes, generated columns, views, policies and
triggers that a type change would break or be refused for. Pure functions over the diff's
list."""

from __future__ import annotations

from dataclasses import replace

from mmschema import changes as ch
from mmschema import ddl
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.model import ForeignKey, Index
from mmschema.model import Catalog, ColumnTrigger, Policy, QualifiedName, View


def replaced_keys(
    live: Catalog, changes: list[ch.Change]
) -> set[tuple[QualifiedName, frozenset[str]]]:
    """(table, columns) of the unique keys the changes drop or rebuild."""
    keys: set[tuple[QualifiedName, frozenset[str]]] = set()
    for change in changes:
        match change:
            case tc.DropPrimaryKey(table=table, key=key):
                keys.add((table, frozenset(key.columns)))
            case tc.DropConstraint(table=table, name=name, kind="unique"):
                live_table = live.tables.get(table)
                for unique in live_table.unique if live_table else ():
                    if unique.name == name:
                        keys.add((table, frozenset(unique.columns)))
            case tc.DropIndex(table=table, index=index) | tc.ReplaceIndex(table=table, old=index):
                if index.unique and all(k.is_column for k in index.keys):
                    keys.add((table, frozenset(k.expr for k in index.keys)))
    return keys


def rebuild_dependent_foreign_keys(
    live: Catalog, desired: Catalog, changes: list[ch.Change]
) -> list[ch.Change]:
    """Foreign keys that stand in the way: the key they reference is dropped or rebuilt, or
    a column on either side changes type. Each is dropped first and added again after the
    change (NOT VALID, then VALIDATE), as the file declares it or, unmanaged, as it was."""
    retyped = {(c.table, c.column) for c in changes if isinstance(c, cc.AlterColumnType)}
    replaced = replaced_keys(live, changes)
    recreated = {c.table.name for c in changes if isinstance(c, tc.ReplaceTable)}
    dropped = {c.table for c in changes if isinstance(c, tc.DropTable)}
    early = {c.table for c in changes if isinstance(c, tc.DropTable) and c.early}
    changes = list(changes)
    if not (retyped or replaced or recreated or dropped):
        return changes
    dropping = {(c.table, c.name) for c in changes if isinstance(c, tc.DropConstraint)}
    handled = dropping | {(c.table, c.key.name) for c in changes if isinstance(c, tc.AddForeignKey)}
    outbound = [(t.name, key) for t in live.tables.values() for key in t.foreign_keys]
    renamed = {c.old: c.new for c in changes if isinstance(c, tc.RenameTable)}
    for live_name, live_key in [*outbound, *live.inbound_foreign_keys]:
        # The plan's changes name a renamed table by its new name.
        table = renamed.get(live_name, live_name)
        key = replace(live_key, references=renamed.get(live_key.references, live_key.references))
        if (table, key.name) in dropping:
            continue
        if key.references in dropped | recreated:
            # DROP TABLE refuses while another table's key references it. A key of a
            # table that goes too is not added again; one of a kept table is, when the table
            # it references comes back (re-created), not when that table is dropped.
            first = key.references in recreated | early
            changes.append(tc.DropConstraint(table, key.name, "foreign_key", first))
            if table not in dropped | recreated and key.references in recreated:
                changes.extend(_added_again(live, desired, table, key))
            continue
        if table in recreated or (table, key.name) in handled:
            continue  # goes with its table, or is added again anyway
        depends = (key.references, frozenset(key.referenced_columns)) in replaced
        depends |= any((table, c) in retyped for c in key.columns)
        depends |= any((key.references, c) in retyped for c in key.referenced_columns)
        if not depends or table in early:
            continue
        if table in dropped:
            # The key of a table dropped at the end goes before what it depends on.
            changes.append(tc.DropConstraint(table, key.name, "foreign_key"))
            continue
        changes.append(tc.DropConstraint(table, key.name, "foreign_key"))
        changes.extend(_added_again(live, desired, table, key))
    return changes


def _added_again(
    live: Catalog, desired: Catalog, table: QualifiedName, key: ForeignKey
) -> list[ch.Change]:
    """A dropped foreign key added back as the file declares it or, unmanaged, as it was."""
    wanted_table = desired.tables.get(table)
    declared = wanted_table and next(
        (k for k in wanted_table.foreign_keys if k.name == key.name), None
    )
    owner = live.tables.get(table)
    later = not (owner and owner.partitioned)
    added: list[ch.Change] = [tc.AddForeignKey(table, declared or key, not_valid=later)]
    if later:
        added.append(tc.ValidateConstraint(table, key.name))
    return added


def split_replacements_over_retyped_columns(changes: list[ch.Change]) -> list[ch.Change]:
    """An index being replaced that reads a column whose type changes may not survive the
    ALTER TYPE (its predicate or expression stops type-checking): drop it before and build
    the new one after, instead of swapping it in under a temporary name. A unique one is
    dropped and built in the type change's transaction (the ALTER holds ACCESS EXCLUSIVE
    until it commits), so that no other session ever sees the table without it: built
    CONCURRENTLY after, a duplicate written in between would make the build fail."""
    retyped: dict[QualifiedName, set[str]] = {}
    for change in changes:
        if isinstance(change, cc.AlterColumnType):
            retyped.setdefault(change.table, set()).add(change.column)
    if not retyped:
        return changes
    result: list[ch.Change] = []
    unique: list[tc.ReplaceIndex] = []
    for change in changes:
        if isinstance(change, tc.ReplaceIndex) and reads_any(
            change.old, retyped.get(change.table, set())
        ):
            if change.old.unique or change.new.unique:
                unique.append(change)
                continue
            result.append(tc.DropIndex(change.table, change.old, change.concurrently))
            result.append(tc.CreateIndex(change.table, change.new, change.concurrently))
        else:
            result.append(change)
    for change in unique:
        result = _replaced_in_type_change(result, change)
    return result


def _replaced_in_type_change(changes: list[ch.Change], change: tc.ReplaceIndex) -> list[ch.Change]:
    """The unique index dropped just before the first type change of a column it reads and
    built just after the last, when those commit as one transaction; otherwise (a step
    committed alone in between) dropped before and built after, as other indexes are."""
    read = [
        i
        for i, c in enumerate(changes)
        if isinstance(c, cc.AlterColumnType)
        and c.table == change.table
        and reads_any(change.old, {c.column})
    ]
    first, last = read[0], read[-1]
    if not _one_transaction(changes[first : last + 1]):
        drop = tc.DropIndex(change.table, change.old, change.concurrently)
        return [*changes, drop, tc.CreateIndex(change.table, change.new, change.concurrently)]
    drop = tc.DropIndex(change.table, change.old, concurrently=False, in_type_change=True)
    build = tc.CreateIndex(change.table, change.new, concurrently=False, in_type_change=True)
    return [*changes[:first], drop, *changes[first : last + 1], build, *changes[last + 1 :]]


def regenerate_over_retyped_columns(
    live: Catalog, desired: Catalog, changes: list[ch.Change]
) -> list[ch.Change]:
    """A stored generated column blocks ALTER TYPE of the columns it reads (and its own):
    those type changes and the generated columns go into one RetypeUnderGenerated."""
    retypes: dict[QualifiedName, list[cc.AlterColumnType]] = {}
    for change in changes:
        if isinstance(change, cc.AlterColumnType):
            retypes.setdefault(change.table, []).append(change)
    merged: dict[QualifiedName, cc.RetypeUnderGenerated] = {}
    for table, found in retypes.items():
        have, want = live.tables.get(table), desired.tables.get(table)
        if have is None or want is None:
            continue
        names = {r.column for r in found}
        blocking = [
            c.name
            for c in have.columns
            if c.generated and (c.name in names or any(n in c.generated for n in names))
        ]
        wanted = [c for c in want.columns if c.name in blocking and c.generated]
        if wanted:
            merged[table] = cc.RetypeUnderGenerated(
                table, tuple(wanted), tuple(r for r in found if r.column not in blocking)
            )
    if not merged:
        return changes
    result: list[ch.Change] = []
    for change in changes:
        owner = getattr(change, "table", None)
        if isinstance(owner, QualifiedName) and owner in merged:
            gone = {c.name for c in merged[owner].generated}
            if isinstance(change, cc.AlterColumnType):
                if change is retypes[owner][0]:
                    result.append(merged[owner])
                continue
            if isinstance(change, cc.ReplaceGeneratedColumn) and change.column.name in gone:
                continue
        result.append(change)
    return result


def reads_any(index: Index, columns: set[str]) -> bool:
    """Whether the index may read one of the columns (by name; a false yes costs little)."""
    texts = [k.expr for k in index.keys] + list(index.include) + [index.where or ""]
    return any(column in text for column in columns for text in texts)


def retyped_columns(change: ch.Change) -> set[tuple[QualifiedName, str]]:
    """The (table, column) pairs whose type a change alters (or drops and adds again)."""
    match change:
        case cc.AlterColumnType(table=table, column=column):
            return {(table, column)}
        case cc.RetypeUnderGenerated(table=table, retypes=retypes, generated=generated):
            return {(table, r.column) for r in retypes} | {(table, c.name) for c in generated}
        case cc.ReplaceGeneratedColumn(table=table, column=column):
            return {(table, column.name)}
    return set()


def needs_dependents(changes: list[ch.Change]) -> bool:
    """Whether a diff made without the tables' policies and dependents
    (introspect.with_dependents) must be made again with them: a DROP TABLE or DROP
    COLUMN names what it takes along, a type change drops and makes again the policies
    that read the column. For any other change they make no difference."""
    return any(
        isinstance(c, tc.DropTable | cc.DropColumn) or retyped_columns(c) for c in changes
    )


def rebuild_dependent_views(live: Catalog, changes: list[ch.Change]) -> list[ch.Change]:
    """Views, policies, triggers, rules and BEGIN ATOMIC routines reading a column whose
    type changes block the ALTER:
    they are dropped just before the first such change and created again, as they were,
    just after the last, views of views included, all in the one transaction of those
    changes. Where the
    changes do not commit as one (several tables, a step committed alone in between),
    each change gets its own drop and create around it, in its transaction. Materialized
    views are made again with their indexes (WITH DATA when they were populated). A view
    that cannot be made again exactly (triggers, rules), a routine something else depends
    on, or a change that is not one transaction itself, keeps its views: PostgreSQL then
    says what blocks, and nothing is half done."""
    positions = [i for i, c in enumerate(changes) if retyped_columns(c)]
    if not positions or not (
        live.views
        or live.column_readers
        or any(t.policies or t.column_triggers for t in live.tables.values())
    ):
        return changes
    if _one_transaction(changes[positions[0] : positions[-1] + 1]):
        spans = [(positions[0], positions[-1])]
    else:
        spans = [(i, i) for i in positions if _one_transaction([changes[i]])]
    result = list(changes)
    for start, end in reversed(spans):  # from the end: earlier positions stay valid
        blocked = set().union(*(retyped_columns(c) for c in changes[start : end + 1]))
        affected = views_reading(live.views, blocked)
        policies = policies_reading(live, blocked)
        triggers = triggers_reading(live, blocked)
        readers = [r for r in live.column_readers if r.reads & blocked]
        if not (affected or policies or triggers or readers):
            continue
        if not all(_remakeable(v) for v in affected) or any(r.blocked for r in readers):
            continue
        first, last = _table_of(changes[start]), _table_of(changes[end])
        drops: list[ch.Change] = [cc.DropPolicy(t, p) for t, p in policies]
        drops += [cc.DropTrigger(t, g) for t, g in triggers]
        drops += [cc.DropColumnReader(first, r) for r in readers]
        drops += [cc.DropView(first, v) for v in sorted(affected, key=lambda v: -v.level)]
        creates: list[ch.Change] = [cc.CreateView(last, v) for v in affected]
        creates += [cc.CreateColumnReader(last, r) for r in readers]
        creates += [cc.CreatePolicy(t, p) for t, p in policies]
        creates += [cc.CreateTrigger(t, g) for t, g in triggers]
        result[start : end + 1] = [*drops, *changes[start : end + 1], *creates]
    return result


def _remakeable(view: View) -> bool:
    """A plain view with no triggers or rules of its own, or a materialized view."""
    return view.rebuildable or view.materialized


def policies_reading(
    live: Catalog, columns: set[tuple[QualifiedName, str]]
) -> list[tuple[QualifiedName, Policy]]:
    """The policies of the tables that read any of the columns."""
    found = []
    for name in sorted({table for table, _ in columns}):
        table = live.tables.get(name)
        for policy in table.policies if table else ():
            if any((name, column) in columns for column in policy.reads):
                found.append((name, policy))
    return found


def triggers_reading(
    live: Catalog, columns: set[tuple[QualifiedName, str]]
) -> list[tuple[QualifiedName, ColumnTrigger]]:
    """The triggers of the tables that read any of the columns (UPDATE OF, WHEN)."""
    found = []
    for name in sorted({table for table, _ in columns}):
        table = live.tables.get(name)
        for trigger in table.column_triggers if table else ():
            if any((name, column) in columns for column in trigger.reads):
                found.append((name, trigger))
    return found


def views_reading(views: tuple[View, ...], columns: set[tuple[QualifiedName, str]]) -> list[View]:
    """The views that read any of the columns, and the views that read those, in order."""
    affected: list[View] = []
    for view in views:  # shallowest first: a view's readers come after it
        names = {v.name for v in affected}
        if any((rel, col) in columns or rel in names for rel, col in view.reads):
            affected.append(view)
    return affected


def _one_transaction(span: list[ch.Change]) -> bool:
    """Whether the changes of the ALTER_COLUMNS phase in `span` commit as one transaction:
    one table, every statement transactional and not committed alone."""
    among = [c for c in span if c.phase == ch.Phase.ALTER_COLUMNS]
    tables = {tc.table_before(c) for c in among}
    return len(tables) == 1 and all(
        s.transactional and not s.alone for c in among for s in ddl.statements(c)
    )


def _table_of(change: ch.Change) -> QualifiedName:
    """The table a type change alters (every retyping change has one)."""
    table = tc.table_before(change)
    assert table is not None, change
    return table
