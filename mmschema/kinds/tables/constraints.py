"""Primary keys, unique, foreign key, check and exclusion constraints: how they compare
(renames included) and their DDL."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from psycopg import sql

from mmschema.ddl.base import (
    Statement,
    alter_table,
    qualified,
    statements,
)
from mmschema.desired.declared import DeclaredTable
from mmschema.hazards import Hazard, hazards
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables.indexes import create_index, drop_index_concurrently
from mmschema.kinds.tables.model import (
    Check,
    Exclusion,
    ForeignKey,
    Index,
    IndexKey,
    Table,
    UniqueConstraint,
)
from mmschema.locks import Form
from mmschema.model import QualifiedName

if TYPE_CHECKING:
    from mmschema.kinds.tables.tables import TableDiff


@statements.register
def _(change: tc.AddPrimaryKey) -> list[Statement]:
    name = sql.Identifier(change.key.name)
    if change.index == "plain":
        action = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY ({})").format(
            name, sql.SQL(", ").join(map(sql.Identifier, change.key.columns))
        )
        return [alter_table(change.table, Form.ADD_PRIMARY_KEY, action)]
    attach = sql.SQL("ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(name, name)
    result = [alter_table(change.table, Form.ADD_PRIMARY_KEY_USING_INDEX, attach)]
    if change.index == "build":
        index = Index(change.key.name, tuple(IndexKey(c) for c in change.key.columns), unique=True)
        result[:0] = [
            drop_index_concurrently(change.table.schema, change.key.name),
            create_index(change.table, index, change.key.name, concurrently=True),
        ]
    return result


@statements.register
def _(change: tc.DropPrimaryKey) -> list[Statement]:
    action = sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(change.key.name))
    return [alter_table(change.table, Form.DROP_CONSTRAINT, action)]


def deferrable_clause(deferrable: bool, initially_deferred: bool) -> sql.Composable:
    if not deferrable:
        return sql.SQL("")
    return sql.SQL(" DEFERRABLE INITIALLY DEFERRED" if initially_deferred else " DEFERRABLE")


def unique_definition(constraint: UniqueConstraint) -> sql.Composable:
    return sql.SQL("CONSTRAINT {} UNIQUE{} ({}){}").format(
        sql.Identifier(constraint.name),
        sql.SQL("" if constraint.nulls_distinct else " NULLS NOT DISTINCT"),
        sql.SQL(", ").join(map(sql.Identifier, constraint.columns)),
        deferrable_clause(constraint.deferrable, constraint.initially_deferred),
    )


def unique_index(table: QualifiedName, constraint: UniqueConstraint) -> Index:
    """The index a UNIQUE constraint is attached to when added online."""
    return Index(
        name=constraint.name,
        keys=tuple(IndexKey(c) for c in constraint.columns),
        unique=True,
        nulls_distinct=constraint.nulls_distinct,
    )


@statements.register
def _(change: tc.AddUnique) -> list[Statement]:
    constraint = change.constraint
    if not change.using_index:
        return [
            alter_table(
                change.table,
                Form.ADD_UNIQUE,
                sql.SQL("ADD {}").format(unique_definition(constraint)),
            )
        ]
    attach = sql.SQL("ADD CONSTRAINT {} UNIQUE USING INDEX {}{}").format(
        sql.Identifier(constraint.name),
        sql.Identifier(constraint.name),
        deferrable_clause(constraint.deferrable, constraint.initially_deferred),
    )
    return [
        drop_index_concurrently(change.table.schema, constraint.name),
        create_index(change.table, unique_index(change.table, constraint), constraint.name, True),
        alter_table(change.table, Form.ADD_UNIQUE_USING_INDEX, attach),
    ]


FK_ACTION_SQL = {
    "no_action": "NO ACTION",
    "restrict": "RESTRICT",
    "cascade": "CASCADE",
    "set_null": "SET NULL",
    "set_default": "SET DEFAULT",
}


def foreign_key_definition(key: ForeignKey) -> sql.Composable:
    return sql.SQL(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}{}"
    ).format(
        sql.Identifier(key.name),
        sql.SQL(", ").join(map(sql.Identifier, key.columns)),
        qualified(key.references),
        sql.SQL(", ").join(map(sql.Identifier, key.referenced_columns)),
        sql.SQL(FK_ACTION_SQL[key.on_delete]),
        sql.SQL(FK_ACTION_SQL[key.on_update]),
        deferrable_clause(key.deferrable, key.initially_deferred),
    )


@statements.register
def _(change: tc.AddForeignKey) -> list[Statement]:
    suffix = sql.SQL(" NOT VALID" if change.not_valid else "")
    action = sql.SQL("ADD {}{}").format(foreign_key_definition(change.key), suffix)
    return [alter_table(change.table, Form.ADD_FOREIGN_KEY, action)]


def check_definition(check: Check) -> sql.Composable:
    return sql.SQL("CONSTRAINT {} CHECK ({}){}").format(
        sql.Identifier(check.name),
        sql.SQL(check.expression),
        sql.SQL(" NO INHERIT" if check.no_inherit else ""),
    )


@statements.register
def _(change: tc.AddCheck) -> list[Statement]:
    suffix = sql.SQL(" NOT VALID" if change.not_valid else "")
    action = sql.SQL("ADD {}{}").format(check_definition(change.check), suffix)
    return [alter_table(change.table, Form.ADD_CHECK, action)]


@statements.register
def _(change: tc.ValidateConstraint) -> list[Statement]:
    action = sql.SQL("VALIDATE CONSTRAINT {}").format(sql.Identifier(change.name))
    return [alter_table(change.table, Form.VALIDATE_CONSTRAINT, action)]


def exclusion_definition(exclusion: Exclusion) -> sql.Composable:
    return sql.SQL("CONSTRAINT {} {}").format(
        sql.Identifier(exclusion.name), sql.SQL(exclusion.definition)
    )


@statements.register
def _(change: tc.AddExclusion) -> list[Statement]:
    action = sql.SQL("ADD {}").format(exclusion_definition(change.exclusion))
    return [alter_table(change.table, Form.ADD_EXCLUSION, action)]


@statements.register
def _(change: tc.DropConstraint) -> list[Statement]:
    action = sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(change.name))
    return [alter_table(change.table, Form.DROP_CONSTRAINT, action)]


@statements.register
def _(change: tc.RenameConstraint) -> list[Statement]:
    action = sql.SQL("RENAME CONSTRAINT {} TO {}").format(
        sql.Identifier(change.old), sql.Identifier(change.new)
    )
    return [alter_table(change.table, Form.RENAME_CONSTRAINT, action)]


def with_renamed_constraints(have: Table, table: DeclaredTable, result: TableDiff) -> Table:
    """`renamed_from` on a key, unique, check or foreign key: RENAME CONSTRAINT (a catalog
    update, the index of a key or unique constraint renamed with it), then compared under
    the new name."""
    declared = [
        *((u.name, u.renamed_from) for u in table.unique),
        *((f.name, f.renamed_from) for f in table.foreign_keys),
        *((c.name, c.renamed_from) for c in table.checks),
    ]
    key = table.primary_key
    if key is not None and key.renamed_from:
        declared.append((key.name or f"{table.name.name}_pkey", key.renamed_from))
    live = {
        *(u.name for u in have.unique),
        *(f.name for f in have.foreign_keys),
        *(c.name for c in have.checks),
        *((have.primary_key.name,) if have.primary_key else ()),
    }
    renames = {
        old: new for new, old in declared if old and new not in live and old in live and old != new
    }
    if not renames:
        return have
    for old, new in renames.items():
        result.changes.append(tc.RenameConstraint(have.name, old, new))

    def named(item: Any) -> Any:
        return replace(item, name=renames.get(item.name, item.name))

    return replace(
        have,
        unique=tuple(named(u) for u in have.unique),
        foreign_keys=tuple(named(f) for f in have.foreign_keys),
        checks=tuple(named(c) for c in have.checks),
        primary_key=named(have.primary_key) if have.primary_key else None,
    )


def diff_primary_key(
    have: Table, want: Table, table: DeclaredTable, prune: bool, result: TableDiff
) -> set[str]:
    """Primary key changes; returns the name of a live index the new key takes over.

    A partition's key that is part of its parent's comes and goes with the parent's."""
    old, new = have.primary_key, want.primary_key
    if (old and old.attached and (new is None or new.attached)) or (
        old is None and new and new.attached
    ):
        return set()
    if old == new:
        return set()
    named = table.primary_key is not None and table.primary_key.name is not None
    if old and new and old.columns == new.columns and not named:
        return set()  # the default name follows the table's; only the columns are declared
    if old and new is None:
        if prune and not old.under_parent_index:
            result.changes.append(tc.DropPrimaryKey(want.name, old))
        else:
            result.unmanaged.append(f"primary key {want.name}.{old.name}")
        return set()
    if old:
        result.changes.append(tc.DropPrimaryKey(want.name, old))
    if new is None:
        return set()
    existing = have.index(new.name)
    keys = tuple(IndexKey(c) for c in new.columns)
    if (
        existing
        and not have.partitioned  # ADD PRIMARY KEY USING INDEX is refused there
        and existing.unique
        and existing.valid
        and existing.keys == keys
        and (existing.where is None and not existing.include)
    ):
        result.changes.append(tc.AddPrimaryKey(want.name, new, index="attach"))
        return {existing.name}
    mode = "plain" if have.partitioned else "build"
    result.changes.append(tc.AddPrimaryKey(want.name, new, index=mode))
    return set()


def diff_constraints(
    have: Table,
    want: Table,
    prune: bool,
    result: TableDiff,
    new_table: bool = False,
    file_table: DeclaredTable | None = None,
) -> None:
    """UNIQUE, CHECK and FOREIGN KEY constraints, by name; a changed one is dropped and added.

    On an existing table, checks and foreign keys are added NOT VALID and validated in a
    separate step, and a unique constraint is attached to a concurrently built index.
    """
    name = want.name
    out = result.changes
    written_checks = {c.name: c.expr for c in file_table.checks} if file_table else {}
    for unique in want.unique:
        current = next((u for u in have.unique if u.name == unique.name), None)
        if current != unique:
            if current is not None:
                out.append(tc.DropConstraint(name, unique.name, "unique"))
            online = not new_table and not have.partitioned
            out.append(tc.AddUnique(name, unique, using_index=online))
    for check in want.checks:
        current_check = next((c for c in have.checks if c.name == check.name), None)
        if current_check is not None and current_check.same_definition(check):
            if current_check.valid == check.valid:
                continue
            if check.valid:
                out.append(tc.ValidateConstraint(name, check.name))
                continue
        # A valid constraint is made NOT VALID only by adding it again.
        if current_check is not None:
            out.append(tc.DropConstraint(name, check.name, "check"))
        # Added as written: PostgreSQL's printed form does not always parse back to
        # itself (an IN list on varchar), the text the scratch server checked does.
        written = written_checks.get(check.name)
        added = replace(check, expression=written) if written is not None else check
        out.append(tc.AddCheck(name, added, not_valid=not new_table or not check.valid))
        if not new_table and check.valid:
            out.append(tc.ValidateConstraint(name, check.name))
    for key in want.foreign_keys:
        # NOT VALID is not allowed on a partitioned table: there it is added validated.
        if have.partitioned or want.partitioned:
            key = replace(key, valid=True)
        current_key = next((k for k in have.foreign_keys if k.name == key.name), None)
        if current_key is not None and current_key.same_definition(key):
            if current_key.valid == key.valid:
                continue
            if key.valid:
                out.append(tc.ValidateConstraint(name, key.name))
                continue
        if current_key is not None:
            out.append(tc.DropConstraint(name, key.name, "foreign_key"))
        later = not new_table and not have.partitioned
        out.append(tc.AddForeignKey(name, key, not_valid=later or not key.valid))
        if later and key.valid:
            out.append(tc.ValidateConstraint(name, key.name))
    for exclusion in want.exclusions:
        current_exclusion = next((x for x in have.exclusions if x.name == exclusion.name), None)
        if current_exclusion == exclusion:
            continue
        if current_exclusion is not None:
            out.append(tc.DropConstraint(name, exclusion.name, "exclusion"))
        out.append(tc.AddExclusion(name, exclusion, new_table))
    declared = {
        *(u.name for u in want.unique),
        *(c.name for c in want.checks),
        *(k.name for k in want.foreign_keys),
        *(x.name for x in want.exclusions),
    }
    existing = [
        *(("exclusion", x.name) for x in have.exclusions),
        *(("unique", u.name) for u in have.unique),
        *(("check", c.name) for c in have.checks),
        *(("foreign_key", k.name) for k in have.foreign_keys),
    ]
    declared_indexes = {i.name for i in want.indexes}  # a unique index may be this constraint
    for kind, constraint in existing:
        if constraint in declared or (kind == "unique" and constraint in declared_indexes):
            continue
        if (name, constraint) in result.orphaned and kind in ("unique", "exclusion"):
            result.swallowed.add((name, constraint))  # dropped with its parent's index
            continue
        if prune:
            out.append(tc.DropConstraint(name, constraint, kind))
        else:
            result.unmanaged.append(f"{kind.replace('_', ' ')} {name}.{constraint}")


@hazards.register
def _(change: tc.AddExclusion) -> list[Hazard]:
    if change.new_table:
        return []
    detail = (
        f"adding exclusion constraint {change.exclusion.name} builds its index under an "
        f"ACCESS EXCLUSIVE lock on {change.table}; reads and writes wait"
    )
    return [Hazard("blocking", detail)]
