"""Tables: the family's comparison (each declared table against the live one, its parts
by the modules beside this one), and CREATE, DROP, replace, rename and table options."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import Statement, alter_table, comment, make_statement, qualified, statements
from mmschema.desired.declared import DeclaredTable, DesiredState
from mmschema.hazards import Hazard, cascade_note, hazards
from mmschema.kinds.tables import changes as tc
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.columns import column_definition, diff_columns
from mmschema.kinds.tables.constraints import (
    diff_constraints,
    diff_primary_key,
    with_renamed_constraints,
)
from mmschema.kinds.tables.indexes import cascade_to_swallowed, diff_indexes
from mmschema.kinds.tables.model import (
    Table,
    column_from,
)
from mmschema.kinds.tables.partitions import (
    diff_partition_columns,
    diff_partitioning,
    partitions_at_build_time,
)
from mmschema.kinds.tables.renames import column_renames, with_renamed_columns
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName


def create_table(table: Table) -> list[Statement]:
    """CREATE TABLE, of a partition (PARTITION OF) or partitioned (PARTITION BY) too."""
    elements: list[sql.Composable] = []
    if table.partition_of is None:
        elements.extend(column_definition(c) for c in table.columns)
    if table.primary_key:
        elements.append(
            sql.SQL("CONSTRAINT {} PRIMARY KEY ({})").format(
                sql.Identifier(table.primary_key.name),
                sql.SQL(", ").join(map(sql.Identifier, table.primary_key.columns)),
            )
        )
    body = sql.SQL("({})").format(sql.SQL(", ").join(elements))
    if table.partition_of is not None:
        parts = [sql.SQL("PARTITION OF"), qualified(table.partition_of)]
        if elements:
            parts.append(body)
        parts.append(sql.SQL(table.partition_bound or "DEFAULT"))
        body = sql.SQL(" ").join(parts)
    if table.partition_by is not None:
        body = sql.SQL("{} PARTITION BY {}").format(body, sql.SQL(table.partition_by))
    unlogged = sql.SQL("UNLOGGED ") if table.unlogged else sql.SQL("")
    create = sql.SQL("CREATE {}TABLE {} {}").format(unlogged, qualified(table.name), body)
    result = [make_statement(Form.CREATE_TABLE, create)]
    if table.comment is not None:
        result.append(comment("table", table.name, table.name.name, table.comment))
    result.extend(
        comment("column", table.name, c.name, c.comment)
        for c in table.columns
        if c.comment is not None and table.partition_of is None
    )
    return result


@statements.register
def _(change: tc.CreateTable) -> list[Statement]:
    return create_table(change.table)


@statements.register
def _(change: tc.DropTable) -> list[Statement]:
    return [drop_table(change.table, cascade=bool(change.cascade))]


def drop_table(name: QualifiedName, cascade: bool = False) -> Statement:
    drop = sql.SQL("DROP TABLE {}{}").format(
        qualified(name), sql.SQL(" CASCADE" if cascade else "")
    )
    return make_statement(Form.DROP_TABLE, drop)


@statements.register
def _(change: tc.ReplaceTable) -> list[Statement]:
    return [drop_table(change.table.name), *create_table(change.table)]


@statements.register
def _(change: tc.RenameTable) -> list[Statement]:
    action = sql.SQL("RENAME TO {}").format(sql.Identifier(change.new.name))
    result = [alter_table(change.old, Form.RENAME_TABLE, action)]
    for kind, old, new in change.derived:
        if kind == "constraint":
            rename = sql.SQL("RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(old), sql.Identifier(new)
            )
            result.append(alter_table(change.new, Form.RENAME_CONSTRAINT, rename))
        else:
            sequence = sql.SQL("ALTER SEQUENCE {} RENAME TO {}").format(
                sql.Identifier(change.new.schema, old), sql.Identifier(new)
            )
            result.append(make_statement(Form.ALTER_SEQUENCE, sequence))
    return result


ROW_SECURITY = {
    "off": ("DISABLE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"),
    "on": ("ENABLE ROW LEVEL SECURITY", "NO FORCE ROW LEVEL SECURITY"),
    "forced": ("ENABLE ROW LEVEL SECURITY", "FORCE ROW LEVEL SECURITY"),
    "force_only": ("DISABLE ROW LEVEL SECURITY", "FORCE ROW LEVEL SECURITY"),
}


@statements.register
def _(change: tc.SetTableOption) -> list[Statement]:
    table, value = change.table, change.value
    if change.option == "unlogged":
        action = "SET UNLOGGED" if value == "true" else "SET LOGGED"
        return [alter_table(table, Form.SET_LOGGED, sql.SQL(action))]
    if change.option == "row_security":
        return [alter_table(table, Form.ROW_SECURITY, sql.SQL(a)) for a in ROW_SECURITY[value]]
    identity: sql.Composable
    if value.startswith("index:"):
        identity = sql.SQL("REPLICA IDENTITY USING INDEX {}").format(
            sql.Identifier(value.removeprefix("index:"))
        )
    else:
        identity = sql.SQL(f"REPLICA IDENTITY {value.upper()}")
    return [alter_table(table, Form.REPLICA_IDENTITY, identity)]


@dataclass
class TableDiff:
    """The table family's diff as it goes: its changes, what the file does not manage, and
    what the comparisons of the tables' parts tell one another."""

    changes: list[ch.Change] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)  # "column public.t.x", "index ..."
    # Parts of partitioned indexes this plan drops: (partition, index) go with them.
    orphaned: set[tuple[QualifiedName, str]] = field(default_factory=set)
    # Partitions' indexes a partitioned index this plan builds takes over: kept.
    adopted: set[tuple[QualifiedName, str]] = field(default_factory=set)
    # Partitions' constraints backed by an orphaned part: dropped by DROP INDEX ... CASCADE.
    swallowed: set[tuple[QualifiedName, str]] = field(default_factory=set)
    # Relation names per schema: the live ones, and parts' names this plan chose.
    names_in_use: dict[str, set[str]] = field(default_factory=dict)
    # Column renames the file declares, per table: live keys and indexes read with them.
    column_renames: dict[QualifiedName, dict[str, str]] = field(default_factory=dict)

    def dropping(self, change: tc.DropIndex | tc.ReplaceIndex) -> ch.Change:
        index = change.index if isinstance(change, tc.DropIndex) else change.old
        self.orphaned.update((part, name) for part, name, _ in index.parts)
        return change


def diff_tables(
    live: Catalog,
    desired: Catalog,
    declared: DesiredState,
    prune: bool,
    new_schemas: set[str],
) -> TableDiff:
    """The declared tables' changes, partitions after their parents; `new_schemas`: the
    schemas this plan creates so far (one CREATE SCHEMA each)."""
    result = TableDiff(column_renames=column_renames(live, declared))
    gone: set[QualifiedName] = set()  # dropped or re-created: their partitions went too
    parents = _renamed_tables(live, declared)
    for table in declared.tables:  # partitions after their parents
        have = _live_table(live, table, result)
        if have is not None and have.partition_of in parents:
            have = replace(have, partition_of=parents[have.partition_of])
        if have is not None and have.partition_of in gone:
            gone.add(have.name)
            have = None
        if table.state == "absent":
            if have is not None:
                result.changes.append(tc.DropTable(table.name, have.dependents_of()))
                gone.add(table.name)
            continue
        want = desired.tables[table.name]
        if have is None:
            schema = table.name.schema
            if schema not in live.schemas and schema not in new_schemas:
                new_schemas.add(schema)
                result.changes.append(ch.CreateSchema(schema))
            _create_table_changes(table, want, result)
            if want.partition_of is not None:
                parent = desired.tables.get(want.partition_of)
                diff_partition_columns(parent, want, table, parent, True, result)
        elif have.partition_by != want.partition_by and (prune or want.partition_by):
            _create_table_changes(table, want, result, replace_live=True)
            gone.add(table.name)
        elif not _unchanged(have, want):
            _diff_table(have, want, table, prune, result, live)
            if want.partition_of is not None:
                parent = desired.tables.get(want.partition_of)
                live_parent = live.tables.get(have.partition_of) if have.partition_of else None
                diff_partition_columns(live_parent, want, table, parent, prune, result, have)
    result.changes = cascade_to_swallowed(result)
    result.changes = partitions_at_build_time(result.changes)
    return result


def _unchanged(have: Table, want: Table) -> bool:
    """The live table is exactly the wanted one (most tables of a warm plan): _diff_table
    would find nothing, and one comparison costs a fraction of its walk. Partition trees
    always take the walk (their indexes' attached parts are not compared by ==)."""
    if have.partition_by is not None or have.partition_of is not None or have.partitions:
        return False
    return have == want


def _renamed_tables(live: Catalog, declared: DesiredState) -> dict[QualifiedName, QualifiedName]:
    """The file's table renames that this plan makes (old name: new name)."""
    return {
        t.renamed_from: t.name
        for t in declared.tables
        if t.renamed_from in live.tables and t.name not in live.tables
    }


def _live_table(live: Catalog, table: DeclaredTable, result: TableDiff) -> Table | None:
    have = live.tables.get(table.name)
    old = table.renamed_from
    if have is None and old is not None and old in live.tables:
        renamed = live.tables[old]
        key = renamed.primary_key
        derived: tuple[tuple[str, str, str], ...] = ()
        if key is not None and key.name == f"{old.name}_pkey" and table.primary_key is not None:
            new_key = f"{table.name.name}_pkey"
            if table.primary_key.name in (None, new_key) and len(new_key.encode()) < 64:
                derived = (("constraint", key.name, new_key),)
                renamed = replace(renamed, primary_key=replace(key, name=new_key))
        result.changes.append(tc.RenameTable(old, table.name, derived))
        return _serial_sequences_renamed(replace(renamed, name=table.name), old.name)
    return have


def _serial_sequences_renamed(table: Table, old: str) -> Table:
    """Defaults that read the old table's serial sequences (<old>_<column>_seq) read them
    under the new name: the rename renames them along (owned_sequences.py)."""
    columns = []
    for column in table.columns:
        default = column.default
        for prefix in ("", f"{table.name.schema}."):
            new = f"{table.name.name}_{column.name}_seq"
            if default == f"nextval('{prefix}{old}_{column.name}_seq'::regclass)" and (
                len(new.encode()) < 64
            ):
                default = f"nextval('{prefix}{new}'::regclass)"
        columns.append(replace(column, default=default))
    return replace(table, columns=tuple(columns))


def _create_table_changes(
    table: DeclaredTable, want: Table, result: TableDiff, replace_live: bool = False
) -> None:
    """A new table with its indexes and constraints; replace_live drops the live one first."""
    columns = tuple(
        replace(column_from(d), nullable=c.nullable)
        for d, c in zip(table.present_columns(), want.columns, strict=False)
    )
    key = want.primary_key if want.primary_key and not want.primary_key.attached else None
    bare = replace(
        want, columns=columns, primary_key=key, indexes=(), unique=(), foreign_keys=(), checks=()
    )
    result.changes.append(tc.ReplaceTable(bare) if replace_live else tc.CreateTable(bare))
    for option, _, default in TABLE_OPTIONS:
        value = _option_text(getattr(want, option))
        if value != default and option != "unlogged":  # UNLOGGED is part of CREATE TABLE
            result.changes.append(tc.table_option(want.name, option, value))
    parent = want.partition_by is not None
    for index in (i for i in want.indexes if not i.attached):  # those come with the parent's
        result.changes.append(tc.CreateIndex(want.name, index, False, on_new_parent=parent))
    diff_constraints(Table(want.name), want, False, result, new_table=True, file_table=table)


def _diff_table(
    have: Table,
    want: Table,
    table: DeclaredTable,
    prune: bool,
    result: TableDiff,
    live: Catalog,
) -> None:
    name = want.name
    diff_partitioning(have, want, prune, result)
    kept_key = have.primary_key if want.primary_key is None and not prune else None
    pinned = frozenset(kept_key.columns) if kept_key else frozenset()
    # A partition's columns are its parent's: they change with the parent's.
    claimed = (
        diff_columns(have, want, table, result, pinned)
        if want.partition_of is None
        else {c.name for c in have.columns}
    )
    for column in have.columns:
        if column.name not in claimed:
            if prune:
                cascade = have.dependents_of(column.name)
                result.changes.append(cc.DropColumn(name, column.name, cascade))
            else:
                result.unmanaged.append(f"column {name}.{column.name}")
    have = with_renamed_columns(have, result.column_renames)
    have = with_renamed_constraints(have, table, result)
    taken_over = diff_primary_key(have, want, table, prune, result)
    diff_constraints(have, want, prune, result, file_table=table)
    diff_indexes(have, want, table, prune, result, live, taken_over)
    _diff_table_options(have, table, prune, result)
    if have.comment != want.comment:
        if table.comment_given or prune:
            result.changes.append(tc.SetComment("table", name, name.name, want.comment))
        else:  # a comment the file does not give is left alone, like table options
            result.unmanaged.append(f"comment {name}")


TABLE_OPTIONS = (  # (option, what the plan calls it, PostgreSQL's default)
    ("unlogged", "unlogged", "false"),
    ("row_security", "row level security", "off"),
    ("replica_identity", "replica identity", "default"),
)


def _diff_table_options(have: Table, table: DeclaredTable, prune: bool, result: TableDiff) -> None:
    """Options the file gives are set; others, where not the default, are unmanaged."""
    for option, label, default in TABLE_OPTIONS:
        live = _option_text(getattr(have, option))
        declared = getattr(table, option)
        wanted = None if declared is None else _option_text(declared)
        if wanted is None:
            if live == default:
                continue
            if not prune:
                result.unmanaged.append(f"{label} {table.name} ({live})")
                continue
            wanted = default
        if wanted != live:
            result.changes.append(tc.table_option(table.name, option, wanted))


def _option_text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@hazards.register
def _(change: tc.DropTable) -> list[Hazard]:
    detail = f"drops table {change.table} and all its rows{cascade_note(change.cascade)}"
    return [Hazard("destructive", detail)]


@hazards.register
def _(change: tc.ReplaceTable) -> list[Hazard]:
    detail = (
        f"drops table {change.table.name} with all its rows and partitions, and creates it "
        "again: its partitioning cannot be altered in place"
    )
    return [Hazard("destructive", detail)]


@hazards.register
def _(change: tc.SetTableOption) -> list[Hazard]:
    if change.option != "unlogged":
        return []
    detail = (
        f"SET {'UNLOGGED' if change.value == 'true' else 'LOGGED'} rewrites {change.table} "
        "under an ACCESS EXCLUSIVE lock"
    )
    return [Hazard("rewrite", detail)]
