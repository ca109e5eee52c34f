"""Domains: declared under `domains:`, compared as PostgreSQL prints them; a new check is
added NOT VALID and validated apart, after counting the stored values it rejects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.stream import RawStream
from pglast.visitors import Visitor
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import kind_sql
from mmschema.ddl.base import Statement, create_schema, dotted, make_statement, qualified, render
from mmschema.ddl.base import statements as ddl_statements
from mmschema.desired.build import Context
from mmschema.desired.checks import shown
from mmschema.desired.declared import Source
from mmschema.desired.sqltext import SqlProblem, check_type
from mmschema.hazards import Hazard, hazards
from mmschema.kinds import comments
from mmschema.kinds.base import KindObject, Unmanaged
from mmschema.kinds.typeusers import (
    ColumnUser,
    DataCheck,
    column_users,
    named_pairs,
    needed_first,
    offenders,
    report_failure,
    type_key,
    type_used,
    users_label,
    writes_wait,
)
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName
from mmschema.scratch_chunks import ScratchRun
from mmschema.scratch_steps import ScratchStep

FILE_KEY = "domains"


@dataclass(frozen=True)
class DomainCheck:
    name: str
    definition: str  # "CHECK (...)", as pg_get_constraintdef prints it once normalized
    valid: bool = field(default=True, compare=False)
    # As the file writes it: what ADD CONSTRAINT says (the printing may not parse back to
    # itself, and another major prints it otherwise).
    written: str = field(default="", compare=False)

    @property
    def text(self) -> str:
        return self.written or self.definition


@dataclass(frozen=True)
class ManagedDomain:
    """A domain the file declares (or its live counterpart): equal when PostgreSQL prints
    its base type, default, NOT NULL, collation and checks the same."""

    name: QualifiedName
    base_type: str  # format_type() once normalized
    default: str | None = None
    not_null: bool = False
    collation: str | None = None  # only when not the base type's
    checks: tuple[DomainCheck, ...] = ()  # by name
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    users: tuple[ColumnUser, ...] = field(default=(), compare=False)  # live: its columns
    comment: comments.Declared = field(default=comments.NOT_GIVEN, compare=False)
    written_default: str | None = field(default=None, compare=False)  # as the file writes it

    @property
    def key(self) -> str:
        return str(self.name)

    @property
    def default_text(self) -> str | None:
        return self.written_default if self.written_default is not None else self.default

    def check(self, name: str) -> DomainCheck | None:
        return next((c for c in self.checks if c.name == name), None)

    def calls(self, routine: str) -> bool:
        """Whether its checks or default call a routine of this (unqualified) name."""
        texts = [c.definition for c in self.checks] + [self.default or ""]
        return any(re.search(rf"\b{re.escape(routine)}\s*\(", text) for text in texts)


# --- the changes ----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateDomain(ch.KindChange):
    """CREATE DOMAIN with its checks (no value holds it yet), before the tables."""

    domain: ManagedDomain
    # FUNCTIONS when its checks or default call a routine the plan makes (after it).
    phase: ch.Phase = ch.Phase.ENUMS

    @property
    def kind_name(self) -> str:
        return "create_domain"

    @property
    def subject(self) -> str:
        return self.domain.key

    @property
    def makes(self) -> tuple[str, ...]:
        return (type_key(self.domain.name),)

    @property
    def needs(self) -> tuple[str, ...]:
        return (self.domain.base_type.removesuffix("[]"),)


@dataclass(frozen=True)
class AlterDomain(ch.KindChange):
    """ALTER DOMAIN: default, NOT NULL, checks dropped, new or changed checks added NOT VALID
    (validated by ValidateDomainCheck), before the tables."""

    old: ManagedDomain
    new: ManagedDomain
    phase = ch.Phase.ENUMS

    @property
    def kind_name(self) -> str:
        return "alter_domain"

    @property
    def subject(self) -> str:
        return self.new.key

    @property
    def added(self) -> tuple[DomainCheck, ...]:
        return tuple(c for c in self.new.checks if self.old.check(c.name) != c)

    @property
    def dropped(self) -> tuple[DomainCheck, ...]:
        return tuple(c for c in self.old.checks if self.new.check(c.name) != c)

    def data_checks(self) -> list[DataCheck]:
        """Values a new NOT NULL rejects, column by column (read only)."""
        if not self.new.not_null or self.old.not_null:
            return []
        what = f"NOT NULL of domain {self.new.key}"
        return [offenders(user, "IS NULL", what) for user in self.old.users]


@dataclass(frozen=True)
class ValidateDomainCheck(ch.KindChange):
    """ALTER DOMAIN ... VALIDATE CONSTRAINT, committed alone: scans the columns using it."""

    domain: ManagedDomain
    check: str
    users: tuple[ColumnUser, ...] = ()  # the live columns of the domain
    phase = ch.Phase.VALIDATE_CONSTRAINTS

    def data_checks(self) -> list[DataCheck]:
        """Stored values the check rejects, column by column (read only): NULL passes."""
        check = self.domain.check(self.check)
        if check is None:
            return []
        what = f"check {check.name} of domain {self.domain.key}"
        found = [
            offenders(
                user,
                f"IS NOT NULL AND NOT ({value_as_column(check.text, user.column)})",
                what,
            )
            for user in self.users
        ]
        tables = dict.fromkeys(user.table for user in self.users)
        return found + [writes_wait(table, f"validating {what}") for table in tables]

    @property
    def kind_name(self) -> str:
        return "validate_domain_check"

    @property
    def subject(self) -> str:
        return f"{self.domain.key}.{self.check}"


@dataclass(frozen=True)
class RebuildDomain(ch.KindChange):
    """DROP DOMAIN and CREATE DOMAIN (its base type or collation change, which ALTER DOMAIN
    cannot): only when no column uses it, else refused (may_fail)."""

    old: ManagedDomain
    new: ManagedDomain
    phase = ch.Phase.ENUMS

    @property
    def kind_name(self) -> str:
        return "rebuild_domain"

    @property
    def subject(self) -> str:
        return self.new.key


@dataclass(frozen=True)
class DropDomain(ch.KindChange):
    """DROP DOMAIN (no CASCADE) of one the file marks absent or --prune drops, after the
    tables and columns that may have used it."""

    domain: ManagedDomain
    phase = ch.Phase.DROP_TYPES

    @property
    def kind_name(self) -> str:
        return "drop_domain"

    @property
    def subject(self) -> str:
        return self.domain.key


# --- the kind -------------------------------------------------------------------------


class DomainKind:
    """The domains kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedDomain)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_domain(context, key, spec)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        return tuple(read_domains(conn, [d.name for d in _domains(declared)], []))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(normalize_domains(run, list(_domains(declared))))

    def normalize_against(
        self, run: ScratchRun, declared: Sequence[KindObject], live: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        """As normalize, with the live domains' texts where they differ only in printing."""
        return tuple(normalize_domains(run, list(_domains(declared)), list(_domains(live))))

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        return diff_domains(list(_domains(live)), list(_domains(desired)))

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        found = read_domains(conn, [], list(schemas))
        if only:
            wanted = set(only)
            found = [d for d in found if {d.name.name, d.key, d.name.schema} & wanted]
        return {type_key(d.name): domain_document(d) for d in found}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        return {type_key(d.name): domain_document(d) for d in _domains(live)}

    def declared_steps(self, declared: Sequence[KindObject]) -> list[ScratchStep]:
        """The declared domains, before the file's tables whose columns use them."""
        steps = []
        present = [d for d in _domains(declared) if d.state == "present"]
        for domain in needed_first(present, lambda d: d.name, lambda d: [d.base_type]):
            where = f"{domain.source}: domain {domain.key}"
            steps.append(ScratchStep(render(create_schema(domain.name.schema)), where))
            steps.append(ScratchStep(create_domain_sql(domain), where))
        return steps

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """The domains nothing uses in the schemas of the file's tables and domains."""
        mine = list(_domains(declared))
        schemas = sorted({d.name.schema for d in mine} | {t.schema for t in live.tables})
        named = {d.key for d in mine}
        return [
            Unmanaged(d.key, f"domain {d.key}", DropDomain(d))
            for d in read_domains(conn, [], schemas)
            if d.key not in named and not d.users and not type_used(conn, d.name)
        ]


KIND = DomainKind()


def _domains(objects: Iterable[object]) -> Iterable[ManagedDomain]:
    return (o for o in objects if isinstance(o, ManagedDomain))


# --- the file -------------------------------------------------------------------------


def build_domain(context: Context, key: str, spec: Mapping[str, object]) -> ManagedDomain:
    path = (FILE_KEY, key)
    name = context.table_name(path, key, "public", "domain")
    label = f"domain {shown(name)}"
    state = spec.get("state")
    base = spec.get("type")
    base_text = ""
    if isinstance(base, str):
        try:
            check_type(base)
            base_text = base.strip()
        except SqlProblem as problem:
            context.error((*path, "type"), f"{label}: type {problem}")
    default = None
    if "default" in spec and spec["default"] is not None:
        default = context.literal((*path, "default"), spec["default"], f"{label}: default")
    collation = spec.get("collation")
    checks = []
    written = spec.get("checks")
    for check_name, expr in written.items() if isinstance(written, dict) else ():
        check_path = (*path, "checks", str(check_name))
        context.check_name(check_path, "check name", str(check_name))
        text = context.expression(check_path, expr, f"{label}: check {check_name}")
        if text is not None:
            written = f"CHECK ({text})"
            checks.append(DomainCheck(str(check_name), written, written=written))
    return ManagedDomain(
        name=name,
        base_type=base_text,
        default=default,
        written_default=default,
        not_null=spec.get("nullable") is False,
        collation=collation if isinstance(collation, str) else None,
        checks=tuple(sorted(checks, key=lambda c: c.name)),
        state=state if isinstance(state, str) else "present",
        source=context.key(path),
        comment=comments.declared(spec),
    )


# --- the catalog ----------------------------------------------------------------------


@dataclass
class DomainRow:
    schema: str
    name: str
    base_type: str
    default: str | None
    not_null: bool
    collation: str | None
    checks: list[list[str]]
    users: list[list[str]]
    comment: str | None


def read_domains(
    conn: psycopg.Connection[Any], names: Sequence[QualifiedName], schemas: Sequence[str]
) -> list[ManagedDomain]:
    """The domains named and those of `schemas`, as they are, with the columns using them."""
    params = {**named_pairs(names), "schemas": list(schemas)}
    with conn.cursor(row_factory=class_row(DomainRow)) as cur:
        cur.execute(kind_sql("domains"), params)
        rows = cur.fetchall()
    return [
        ManagedDomain(
            name=QualifiedName(row.schema, row.name),
            base_type=row.base_type,
            default=row.default,
            not_null=row.not_null,
            collation=row.collation,
            checks=tuple(DomainCheck(c[0], c[1], c[2] == "true") for c in row.checks),
            users=column_users(row.users),
            comment=comments.Declared(row.comment, True),
        )
        for row in rows
    ]


def normalize_domains(
    run: ScratchRun, declared: list[ManagedDomain], live: Sequence[ManagedDomain] = ()
) -> list[ManagedDomain]:
    """The declared domains as the scratch server prints them: the preamble made them before
    the tables; one it could not make is made again here to report why at its place. A
    default or check the target prints otherwise (another major, or a printing that does
    not parse back to itself) is the target's text when both print the same once printed
    and parsed again on the scratch server."""
    present = [d for d in declared if d.state == "present"]
    if not present:
        return []
    found = {d.key: d for d in read_domains(run.conn, [d.name for d in present], [])}
    result = []
    for domain in present:
        made = found.get(domain.key)
        if made is None:
            what = f"domain {domain.key}"
            report_failure(run, domain.source, what, domain.name, create_domain_sql(domain))
            continue
        made = replace(made, state=domain.state, source=domain.source, users=())
        written = {c.name: c.written for c in domain.checks}
        checks = tuple(replace(c, written=written.get(c.name, "")) for c in made.checks)
        made = replace(made, checks=checks, written_default=domain.written_default)
        result.append(replace(made, comment=domain.comment))
    have = {d.key: d for d in live}
    return [_as_live_prints(run, d, have[d.key]) if d.key in have else d for d in result]


_REPRINT_SCHEMA = "mmschema_reprint"


def _as_live_prints(run: ScratchRun, made: ManagedDomain, old: ManagedDomain) -> ManagedDomain:
    """The domain with the live text of each default and check that differs from it only by
    how it is printed (both print the same once printed and parsed again)."""
    if (made.base_type, made.collation) != (old.base_type, old.collation):
        return made
    checks = []
    for check in made.checks:
        live = old.check(check.name)
        if live is not None and live.definition != check.definition:
            same = _reprinted(run, made, "check", live.definition) == _reprinted(
                run, made, "check", check.definition
            )
            check = replace(check, definition=live.definition) if same else check
        checks.append(check)
    made = replace(made, checks=tuple(checks))
    if None not in (made.default, old.default) and made.default != old.default:
        live_default = _reprinted(run, made, "default", str(old.default))
        if live_default == _reprinted(run, made, "default", str(made.default)):
            made = replace(made, default=old.default)
    return made


def _reprinted(run: ScratchRun, domain: ManagedDomain, part: str, text: str) -> str | None:
    """A check's or default's text printed and parsed again until it prints the same (at most
    three times), on a domain of the same base type; None: the scratch server refused it."""
    name = QualifiedName(_REPRINT_SCHEMA, "reprinted")
    for _ in range(3):
        probe = ManagedDomain(name, domain.base_type, collation=domain.collation)
        if part == "check":
            probe = replace(probe, checks=(DomainCheck("c", text),))
        else:
            probe = replace(probe, default=text)
        try:
            with run.conn.transaction(force_rollback=True):
                run.confinement.run(render(create_schema(_REPRINT_SCHEMA)))
                run.confinement.run(create_domain_sql(probe))
                [printed] = read_domains(run.conn, [name], [])
        except psycopg.Error:
            return None
        again = printed.checks[0].definition if part == "check" else printed.default
        if again is None or again == text:
            return again
        text = again
    return text


# --- the diff -------------------------------------------------------------------------


def diff_domains(live: list[ManagedDomain], desired: list[ManagedDomain]) -> list[ch.Change]:
    have = {d.key: d for d in live}
    changes: list[ch.Change] = []
    for domain in desired:
        old = have.get(domain.key)
        if domain.state == "absent":
            if old is not None:
                changes.append(DropDomain(old))
            continue
        # The comment it has once made (none when made anew or rebuilt) against the one
        # the file wants (or the live one it had).
        wanted = domain.comment.wanted(old.comment.text if old is not None else None)
        if old is None:
            changes.append(CreateDomain(domain))
            changes += comments.comment_change(
                "domain", domain.key, qualified(domain.name), None, wanted
            )
            continue
        if (old.base_type, old.collation) != (domain.base_type, domain.collation):
            changes.append(RebuildDomain(old, domain))
            changes += comments.comment_change(
                "domain", domain.key, qualified(domain.name), None, wanted
            )
            continue
        changes += comments.comment_change(
            "domain", domain.key, qualified(domain.name), old.comment.text, wanted
        )
        if old != domain:
            changes.append(AlterDomain(old, domain))
        invalid = [c.name for c in old.checks if not c.valid and domain.check(c.name) == c]
        added = [c.name for c in domain.checks if old.check(c.name) != c]
        changes += [
            ValidateDomainCheck(domain, name, old.users) for name in sorted(invalid + added)
        ]
    return changes


# --- SQL ------------------------------------------------------------------------------


def create_domain_sql(domain: ManagedDomain) -> str:
    # The base type was parsed as one type, the default and checks as one expression each.
    parts: list[sql.Composable] = [
        sql.SQL("CREATE DOMAIN {} AS {}").format(qualified(domain.name), sql.SQL(domain.base_type))
    ]
    if domain.collation is not None:
        parts.append(sql.SQL("COLLATE {}").format(dotted(domain.collation)))
    if domain.default_text is not None:
        parts.append(sql.SQL("DEFAULT {}").format(sql.SQL(domain.default_text)))
    if domain.not_null:
        parts.append(sql.SQL("NOT NULL"))
    for check in domain.checks:
        constraint = sql.SQL("CONSTRAINT {} {}")
        parts.append(constraint.format(sql.Identifier(check.name), sql.SQL(check.text)))
    return render(sql.SQL(" ").join(parts))


def _alter(domain: ManagedDomain, action: sql.Composable, form: Form) -> Statement:
    text = sql.SQL("ALTER DOMAIN {} {}").format(qualified(domain.name), action)
    return make_statement(form, text)


def _drop(domain: ManagedDomain) -> Statement:
    return make_statement(Form.DROP_TYPE, sql.SQL("DROP DOMAIN {}").format(qualified(domain.name)))


@ddl_statements.register
def _(change: CreateDomain) -> list[Statement]:
    return [Statement(Form.CREATE_DOMAIN, create_domain_sql(change.domain))]


@ddl_statements.register
def _(change: AlterDomain) -> list[Statement]:
    old, new = change.old, change.new
    made: list[Statement] = []
    if old.default != new.default:
        action = (
            sql.SQL("SET DEFAULT {}").format(sql.SQL(new.default_text))
            if new.default_text is not None
            else sql.SQL("DROP DEFAULT")
        )
        made.append(_alter(new, action, Form.ALTER_DOMAIN))
    for check in change.dropped:
        action = sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(check.name))
        made.append(_alter(new, action, Form.ALTER_DOMAIN))
    if old.not_null != new.not_null:
        action = sql.SQL("SET NOT NULL" if new.not_null else "DROP NOT NULL")
        form = Form.DOMAIN_NOT_NULL if new.not_null else Form.ALTER_DOMAIN
        made.append(_alter(new, action, form))
    for check in change.added:
        action = sql.SQL("ADD CONSTRAINT {} {} NOT VALID").format(
            sql.Identifier(check.name), sql.SQL(check.text)
        )
        made.append(_alter(new, action, Form.ALTER_DOMAIN))
    return made


@ddl_statements.register
def _(change: ValidateDomainCheck) -> list[Statement]:
    action = sql.SQL("VALIDATE CONSTRAINT {}").format(sql.Identifier(change.check))
    return [_alter(change.domain, action, Form.VALIDATE_DOMAIN_CONSTRAINT)]


@ddl_statements.register
def _(change: RebuildDomain) -> list[Statement]:
    return [_drop(change.old), Statement(Form.CREATE_DOMAIN, create_domain_sql(change.new))]


@ddl_statements.register
def _(change: DropDomain) -> list[Statement]:
    return [_drop(change.domain)]


# --- hazards --------------------------------------------------------------------------


@hazards.register
def _(change: RebuildDomain) -> list[Hazard]:
    if not change.old.users:
        return []
    what = "base type" if change.old.base_type != change.new.base_type else "collation"
    detail = (
        f"domain {change.new.key}: its {what} cannot change in place (ALTER DOMAIN has no "
        f"such form) and it is used by {users_label(change.old.users)}; change those "
        "columns to another type first, or declare a new domain"
    )
    return [Hazard("may_fail", detail)]


@hazards.register
def _(change: DropDomain) -> list[Hazard]:
    detail = f"drops domain {change.domain.key}"
    if change.domain.users:
        detail += f" (used now by {users_label(change.domain.users)}: gone or retyped first)"
    return [Hazard("destructive", detail)]


# --- VALUE in a check, as a column -----------------------------------------------------


class _ValueAsColumn(Visitor):
    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> ast.ColumnRef | None:
        fields = node.fields or ()
        if len(fields) == 1 and isinstance(fields[0], ast.String) and fields[0].sval == "value":
            return ast.ColumnRef(fields=(ast.String(sval=self.column),))
        return None


def value_as_column(definition: str, column: str) -> str:
    """A check's expression (`CHECK (VALUE > 0)`) with VALUE read from a column instead."""
    expression = definition.strip().removeprefix("CHECK").strip()
    statement = parse_sql(f"SELECT {expression}")[0].stmt
    assert isinstance(statement, ast.SelectStmt)  # the check's expression, printed
    _ValueAsColumn(column)(statement)
    target = (statement.targetList or ())[0].val
    text: str = RawStream()(target)
    return text


# --- dump -----------------------------------------------------------------------------


def _expression(definition: str) -> str:
    """`CHECK ((VALUE > 0))` as the file writes it: `(VALUE > 0)`."""
    text = definition.strip().removeprefix("CHECK").strip()
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def domain_document(domain: ManagedDomain) -> dict[str, Any]:
    document: dict[str, Any] = {"type": domain.base_type}
    if domain.collation is not None:
        document["collation"] = domain.collation
    if domain.default is not None:
        document["default"] = domain.default
    if domain.not_null:
        document["nullable"] = False
    if domain.checks:
        document["checks"] = {c.name: _expression(c.definition) for c in domain.checks}
    return comments.with_comment(document, domain.comment.text)


__all__ = [
    "KIND",
    "AlterDomain",
    "CreateDomain",
    "DropDomain",
    "RebuildDomain",
    "ValidateDomainCheck",
]
