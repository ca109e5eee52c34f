"""What a folder of SQL migrations does beyond the schema: UPDATEs that become backfills,
statements schema.yaml cannot hold, and tables it alters without creating them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import ObjectType
from pglast.parser import ParseError
from pglast.stream import RawStream

from mmschema.model import QualifiedName
from mmschema.sources import Script, statements_of

# Statements whose effect the file holds (the dump of the result declares it).
SCHEMA_STATEMENTS = frozenset(
    {
        "CreateStmt",
        "AlterTableStmt",
        "IndexStmt",
        "CreateEnumStmt",
        "AlterEnumStmt",
        "CreateDomainStmt",
        "AlterDomainStmt",
        "CompositeTypeStmt",
        "CreateRangeStmt",
        "CreateSchemaStmt",
        "CreateExtensionStmt",
        "AlterExtensionStmt",
        "CommentStmt",
        "DropStmt",
        "RenameStmt",
        "CreateSeqStmt",
        "AlterSeqStmt",
        # views, functions and procedures, triggers, policies: the kinds of mmschema/kinds
        "ViewStmt",
        "CreateFunctionStmt",
        "AlterFunctionStmt",
        "CreateTrigStmt",
        "CreatePolicyStmt",
        "AlterPolicyStmt",
    }
)
# The objects whose owner and grants the file holds (`owner:` and `grants:` of their
# entries): GRANT, REVOKE and ALTER ... OWNER TO of others are listed.
HELD_PRIVILEGES = frozenset(
    {
        ObjectType.OBJECT_TABLE,  # tables, views, materialized views and sequences
        ObjectType.OBJECT_SEQUENCE,
        ObjectType.OBJECT_FUNCTION,
        ObjectType.OBJECT_PROCEDURE,
        ObjectType.OBJECT_ROUTINE,
        ObjectType.OBJECT_SCHEMA,
        ObjectType.OBJECT_DOMAIN,
        ObjectType.OBJECT_TYPE,
    }
)
# The object types of ALTER DEFAULT PRIVILEGES that `default_privileges:` holds.
HELD_DEFAULTS = frozenset(
    {
        ObjectType.OBJECT_TABLE,
        ObjectType.OBJECT_SEQUENCE,
        ObjectType.OBJECT_FUNCTION,
        ObjectType.OBJECT_TYPE,
        ObjectType.OBJECT_SCHEMA,
    }
)
# Statements that leave nothing behind: transactions, settings, statistics, locks.
PASSING_STATEMENTS = frozenset(
    {
        "TransactionStmt",
        "VariableSetStmt",
        "VariableShowStmt",
        "VacuumStmt",
        "ExplainStmt",
        "CheckPointStmt",
        "LockStmt",
        "NotifyStmt",
        "ListenStmt",
        "UnlistenStmt",
        "DiscardStmt",
        "RefreshMatViewStmt",  # rows only; a materialized view's with_data is its state
    }
)
ROW_STATEMENTS = frozenset(
    {"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "TruncateStmt", "CopyStmt"}
)
CODE_STATEMENTS = frozenset({"DoStmt", "CallStmt"})
NOT_A_VALUE = (ast.SetToDefault, ast.MultiAssignRef)  # SET c = DEFAULT, SET (a, b) = (...)


@dataclass(frozen=True)
class Backfill:
    """An UPDATE of columns the migrations add, as the columns' backfill."""

    table: QualifiedName
    column: str
    value: str
    where: str | None
    source: str  # file:line of the UPDATE


@dataclass(frozen=True)
class Unexpressed:
    """A statement whose effect schema.yaml cannot hold."""

    source: str  # file:line
    excerpt: str
    reason: str

    def line(self) -> str:
        return f"{self.source}: {self.excerpt} ({self.reason})"


@dataclass
class Scan:
    backfills: list[Backfill] = field(default_factory=list)
    unexpressed: list[Unexpressed] = field(default_factory=list)
    # Tables altered, indexed or updated before any statement created them: file:line of the first.
    without_base: dict[QualifiedName, str] = field(default_factory=dict)
    created: set[QualifiedName] = field(default_factory=set)
    added: set[tuple[QualifiedName, str]] = field(default_factory=set)


def scan_scripts(scripts: Sequence[Script]) -> Scan:
    """Read every statement of the scripts in order (SourceError on a syntax error)."""
    scan = Scan()
    for script in scripts:
        for line, text in statements_of(script):
            source = f"{script.name}:{line}"
            try:
                parsed = parse_sql(text)
            except ParseError:
                continue  # statements_of parsed it already; a psql-only oddity
            for raw in parsed:
                _scan_statement(scan, raw.stmt, source, text)
    return scan


def _scan_statement(scan: Scan, stmt: Any, source: str, text: str) -> None:
    kind = type(stmt).__name__
    if kind in PASSING_STATEMENTS or (kind == "SelectStmt" and stmt.intoClause is None):
        return
    if kind == "CreateStmt":
        scan.created.add(table_name(stmt.relation))
    elif kind == "AlterTableStmt" and stmt.objtype == ObjectType.OBJECT_TABLE:
        table = _needs(scan, stmt.relation, source)
        for command in stmt.cmds or ():
            if isinstance(command.def_, ast.ColumnDef) and command.def_.colname:
                scan.added.add((table, command.def_.colname))
    elif kind == "IndexStmt":
        _needs(scan, stmt.relation, source)
    elif kind == "UpdateStmt":
        _update(scan, stmt, _needs(scan, stmt.relation, source), source, text)
        return
    if kind in SCHEMA_STATEMENTS or _held_privileges(stmt):
        return
    if kind == "CreateTableAsStmt" and stmt.objtype == ObjectType.OBJECT_MATVIEW:
        return  # a materialized view, declared under materialized_views:
    if kind == "CreateTableAsStmt" or kind == "SelectStmt":
        into = stmt.into if kind == "CreateTableAsStmt" else stmt.intoClause
        scan.created.add(table_name(into.rel))
    scan.unexpressed.append(Unexpressed(source, excerpt(text), reason_for(kind)))


def _held_privileges(stmt: Any) -> bool:
    """A GRANT, REVOKE, ALTER ... OWNER TO or ALTER DEFAULT PRIVILEGES whose effect the
    file's entries hold."""
    if isinstance(stmt, ast.GrantStmt):
        return stmt.objtype in HELD_PRIVILEGES
    if isinstance(stmt, ast.AlterOwnerStmt):
        return stmt.objectType in HELD_PRIVILEGES
    if isinstance(stmt, ast.AlterDefaultPrivilegesStmt) and stmt.action is not None:
        return stmt.action.objtype in HELD_DEFAULTS
    return False


def _needs(scan: Scan, relation: ast.RangeVar, source: str) -> QualifiedName:
    table = table_name(relation)
    if table not in scan.created:
        scan.without_base.setdefault(table, source)
    return table


def _update(scan: Scan, stmt: ast.UpdateStmt, table: QualifiedName, source: str, text: str) -> None:
    """The UPDATE as backfills of the columns it sets, or listed as unexpressed."""
    targets = list(stmt.targetList or ())
    problem = None
    returning = getattr(stmt, "returningClause", None) or getattr(stmt, "returningList", None)
    if stmt.fromClause or stmt.withClause or returning:
        problem = "an UPDATE with FROM, WITH or RETURNING cannot become a backfill"
    elif isinstance(stmt.whereClause, ast.CurrentOfExpr):
        problem = "an UPDATE ... WHERE CURRENT OF cannot become a backfill"
    elif any(t.indirection or isinstance(t.val, NOT_A_VALUE) for t in targets):
        problem = "an UPDATE of parts of columns, or to DEFAULT, cannot become a backfill"
    else:
        columns = [str(t.name) for t in targets]
        unadded = [c for c in columns if (table, c) not in scan.added]
        taken = {b.column: b.source for b in scan.backfills if b.table == table}
        if unadded:
            problem = (
                f"changes rows of {', '.join(unadded)}, which these migrations do not add: "
                "only an UPDATE of added columns becomes their backfill"
            )
        elif any(c in taken for c in columns):
            earlier = next(taken[c] for c in columns if c in taken)
            problem = f"a second UPDATE of a column that {earlier} already backfills"
    if problem is not None:
        scan.unexpressed.append(Unexpressed(source, excerpt(text), problem))
        return
    where = RawStream()(stmt.whereClause) if stmt.whereClause is not None else None
    for target in targets:
        value = RawStream()(target.val)
        scan.backfills.append(Backfill(table, str(target.name), value, where, source))


def table_name(relation: ast.RangeVar) -> QualifiedName:
    return QualifiedName(relation.schemaname or "public", str(relation.relname))


def reason_for(kind: str) -> str:
    if kind in ROW_STATEMENTS:
        return "changes rows; schema.yaml holds no data"
    if kind in CODE_STATEMENTS:
        return "runs code; schema.yaml cannot hold what it does"
    if kind in ("CreateTableAsStmt", "SelectStmt"):
        return "creates a table with rows; the rows are not kept"
    if kind == "GrantRoleStmt":
        return "roles and their members are not declared in schema.yaml"
    if kind in ("GrantStmt", "AlterOwnerStmt"):
        return (
            "schema.yaml holds owners and grants of schemas, tables, views, sequences, "
            "routines, domains and types only"
        )
    return "schema.yaml does not declare this kind of object"


def excerpt(text: str, limit: int = 60) -> str:
    """The statement's first words on one line, for a listing."""
    lines = [re.sub(r"--.*$", "", line).strip() for line in text.strip().splitlines()]
    flat = " ".join(line for line in lines if line)
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."
