"""Row level security policies: declared under `policies:` as `[schema.]table.policy`,
compared as pg_policies prints them, changed with ALTER POLICY where PostgreSQL allows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import catalog_read, kind_sql
from mmschema.ddl.base import Statement, make_statement, qualified
from mmschema.ddl.base import statements as ddl_statements
from mmschema.desired.build import Context, text_of
from mmschema.desired.checks import BadName, name_problem, shown, shown_part, split_name
from mmschema.desired.declared import InvalidFile, Source
from mmschema.hazards import Hazard, hazards
from mmschema.kinds import comments
from mmschema.kinds.base import Arrangement, KindObject, Unmanaged
from mmschema.kinds.rounds import made_in_rounds
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.changes import renamed_tables
from mmschema.locks import Form
from mmschema.model import Catalog, Policy, QualifiedName
from mmschema.scratch_chunks import ScratchRun

FILE_KEY = "policies"
COMMANDS = ("all", "select", "insert", "update", "delete")
PUBLIC = "public"  # pg_policy.polroles 0: every role


@dataclass(frozen=True)
class ManagedPolicy:
    """A policy the file declares (or its live counterpart): equal when printed the same."""

    table: QualifiedName
    name: str
    command: str = "all"  # all | select | insert | update | delete
    permissive: bool = True
    roles: tuple[str, ...] = (PUBLIC,)  # role names, sorted; "public" for PUBLIC
    using: str | None = None  # pg_get_expr() once normalized; the file's text before
    check: str | None = None  # WITH CHECK, likewise
    renamed_from: str | None = None
    state: str = "present"
    source: Source | None = None
    roles_source: Source | None = None
    comment: comments.Declared = field(default=comments.NOT_GIVEN, compare=False)

    @property
    def key(self) -> str:
        return f"{shown(self.table)}.{shown_part(self.name)}"

    @property
    def target(self) -> sql.Composable:
        """The policy as COMMENT ON names it."""
        return sql.SQL("{} ON {}").format(sql.Identifier(self.name), qualified(self.table))

    def alterable_to(self, other: ManagedPolicy) -> bool:
        """Whether ALTER POLICY makes `other` of this one: command and permissiveness stay,
        and no USING or WITH CHECK clause goes away (ALTER POLICY cannot remove one)."""
        return (
            (self.command, self.permissive) == (other.command, other.permissive)
            and (other.using is not None or self.using is None)
            and (other.check is not None or self.check is None)
        )


@dataclass(frozen=True)
class CreateManagedPolicy(ch.KindChange):
    policy: ManagedPolicy
    phase = ch.Phase.VIEWS  # after the tables, columns and functions it reads

    @property
    def kind_name(self) -> str:
        return "create_policy"

    @property
    def subject(self) -> str:
        return self.policy.key


@dataclass(frozen=True)
class AlterManagedPolicy(ch.KindChange):
    """ALTER POLICY: RENAME TO, or the roles, USING and WITH CHECK that changed."""

    old: ManagedPolicy
    new: ManagedPolicy
    renamed_from: str | None = None
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "rename_policy" if self.renamed_from is not None else "alter_policy"

    @property
    def subject(self) -> str:
        return self.new.key


@dataclass(frozen=True)
class ReplaceManagedPolicy(ch.KindChange):
    """DROP POLICY and CREATE POLICY in one transaction: the command or permissiveness
    changed, or a USING or WITH CHECK clause goes away."""

    old: ManagedPolicy
    new: ManagedPolicy
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "replace_policy"

    @property
    def subject(self) -> str:
        return self.new.key


@dataclass(frozen=True)
class DropManagedPolicy(ch.KindChange):
    policy: ManagedPolicy
    phase = ch.Phase.VIEWS  # before the columns, tables and functions it reads are dropped

    @property
    def kind_name(self) -> str:
        return "drop_policy"

    @property
    def subject(self) -> str:
        return self.policy.key


@dataclass(frozen=True)
class PruneManagedPolicy(DropManagedPolicy):
    """DROP POLICY of one on a managed table that the file does not declare (--prune)."""

    phase = ch.Phase.DROP_UNMANAGED


class PolicyKind:
    """The policies kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedPolicy)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_policy(context, key, spec)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        mine = list(_policies(declared))
        if not mine:
            return ()
        _check_roles(conn, mine)
        names = [(p.table, p.name) for p in mine]
        names += [(p.table, p.renamed_from) for p in mine if p.renamed_from]
        return tuple(read_policies(conn, names, []))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(made_in_rounds(run, [(self, declared)]))

    def arranged(self, arrangement: Arrangement) -> Arrangement:
        """Policies on a renamed table follow it; a changed policy made again around a
        column type change is made as declared."""
        objects, unmanaged = arrangement.objects, arrangement.unmanaged
        renamed = renamed_tables(arrangement.tables)
        if renamed:
            objects, unmanaged = policies_following_renamed_tables(renamed, objects, unmanaged)
        tables, objects = rebuilt_as_declared(arrangement.tables, objects)
        return Arrangement(tables, objects, unmanaged)

    def scratch_statements(self, item: KindObject) -> list[str]:
        # To PUBLIC: the scratch server need not have the roles, which change no expression.
        if not isinstance(item, ManagedPolicy):
            return []
        return [_create(replace(item, roles=(PUBLIC,))).sql]

    def described(self, item: KindObject) -> str:
        return f"policy {item.key}"

    def read_back(self, run: ScratchRun, declared: Sequence[KindObject]) -> list[KindObject]:
        mine = list(_policies(declared))
        found = {p.key: p for p in read_policies(run.conn, [(p.table, p.name) for p in mine], [])}
        return [
            replace(
                found[p.key],
                roles=p.roles,
                renamed_from=p.renamed_from,
                source=p.source,
                roles_source=p.roles_source,
                comment=p.comment,
            )
            for p in mine
            if p.key in found
        ]

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        return diff_policies(list(_policies(live)), list(_policies(desired)))

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        found = read_policies(conn, [], list(schemas))
        if only:
            wanted = set(only)
            found = [p for p in found if {p.table.name, str(p.table), p.table.schema} & wanted]
        return {policy_key(p): policy_document(p) for p in found}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        return {policy_key(p): policy_document(p) for p in _policies(live)}

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """The policies on the managed tables; not the old names of renames."""
        if not live.tables:
            return []
        schemas = sorted({name.schema for name in live.tables})
        renamed = {
            replace(p, name=p.renamed_from).key for p in _policies(declared) if p.renamed_from
        }
        return [
            Unmanaged(p.key, f"policy {p.name} on {p.table}", PruneManagedPolicy(p))
            for p in read_policies(conn, [], schemas)
            if p.table in live.tables and p.key not in renamed
        ]


KIND = PolicyKind()


def _policies(objects: Iterable[object]) -> Iterable[ManagedPolicy]:
    return (o for o in objects if isinstance(o, ManagedPolicy))


# --- the file -------------------------------------------------------------------------


def build_policy(context: Context, key: str, spec: Mapping[str, object]) -> ManagedPolicy:
    path = (FILE_KEY, key)
    table, name = _split_key(context, path, key)
    what = f"policy {key}"
    renamed_from = text_of(spec.get("renamed_from"))
    if renamed_from is not None:
        context.check_name((*path, "renamed_from"), "renamed_from", renamed_from)
    command = text_of(spec.get("command")) or "all"
    roles = spec.get("roles")
    named = [r for r in roles if isinstance(r, str)] if isinstance(roles, list) else [PUBLIC]
    named = [PUBLIC if r.lower() == PUBLIC else r for r in named]
    if PUBLIC in named:
        named = [PUBLIC]  # PostgreSQL keeps PUBLIC alone: every role is a member of it
    return ManagedPolicy(
        table=table,
        name=name,
        command=command if command in COMMANDS else "all",
        permissive=spec.get("restrictive") is not True,
        roles=tuple(sorted(set(named))),
        using=context.expression((*path, "using"), spec.get("using"), f"using of {what}"),
        check=context.expression(
            (*path, "with_check"), spec.get("with_check"), f"with_check of {what}"
        ),
        renamed_from=renamed_from,
        state=text_of(spec.get("state")) or "present",
        source=context.key(path),
        roles_source=context.at((*path, "roles")) if isinstance(roles, list) else None,
        comment=comments.declared(spec),
    )


def _split_key(context: Context, path: tuple[str, ...], key: str) -> tuple[QualifiedName, str]:
    try:
        parts = split_name(key)
    except BadName as problem:
        context.key_error(path, f"policy '{key}' {problem}")
        return QualifiedName("public", key), key
    if len(parts) not in (2, 3):
        context.key_error(path, f"policy '{key}' is not table.policy or schema.table.policy")
        return QualifiedName("public", key), key
    table = QualifiedName(*parts[:-1]) if len(parts) == 3 else QualifiedName("public", parts[0])
    for part in parts:
        problem_text = name_problem(part)
        if problem_text is not None:
            context.key_error(path, f"policy '{key}': '{part}' {problem_text}")
    return table, parts[-1]


# --- the catalog ----------------------------------------------------------------------


@dataclass
class PolicyRow:
    schema: str
    table_name: str
    name: str
    permissive: bool
    command: str
    roles: list[str]
    using_expr: str | None
    check_expr: str | None
    comment: str | None


def read_policies(
    conn: psycopg.Connection[Any],
    names: Sequence[tuple[QualifiedName, str]],
    schemas: Sequence[str],
) -> list[ManagedPolicy]:
    """The policies named and all those on tables of `schemas` (read only on the target)."""
    params = {
        "schemas": [t.schema for t, _ in names],
        "tables": [t.name for t, _ in names],
        "names": [n for _, n in names],
        "schemas_all": list(schemas),
    }
    with catalog_read(conn), conn.cursor(row_factory=class_row(PolicyRow)) as cur:
        cur.execute(kind_sql("policies"), params)
        rows = cur.fetchall()
    return [
        ManagedPolicy(
            table=QualifiedName(row.schema, row.table_name),
            name=row.name,
            command=row.command,
            permissive=row.permissive,
            roles=tuple(row.roles),
            using=row.using_expr,
            check=row.check_expr,
            comment=comments.Declared(row.comment, True),
        )
        for row in rows
    ]


def _check_roles(conn: psycopg.Connection[Any], declared: Sequence[ManagedPolicy]) -> None:
    """Roles are not created: a role a policy names that the target lacks refuses the file."""
    present = [p for p in declared if p.state == "present"]
    wanted = sorted({r for p in present for r in p.roles if r != PUBLIC})
    if not wanted:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(kind_sql("policy_roles"), {"roles": wanted})
        found = {row[0] for row in cur.fetchall()}
    errors = [
        f"{p.roles_source or p.source}: policy {p.key}: role {role!r} does not exist on the target"
        for p in present
        for role in p.roles
        if role != PUBLIC and role not in found
    ]
    if errors:
        raise InvalidFile(errors)


# --- the diff -------------------------------------------------------------------------


def diff_policies(live: list[ManagedPolicy], desired: list[ManagedPolicy]) -> list[ch.Change]:
    """Drops, renames, creations and changes of the policies the file names; the others
    are left alone (unmanaged)."""
    have = {p.key: p for p in live}
    changes: list[ch.Change] = []
    for policy in desired:
        old = have.get(policy.key)
        if policy.state == "absent" and old is not None:
            changes.append(DropManagedPolicy(old))
    for policy in desired:
        if policy.state != "present":
            continue
        old = have.get(policy.key)
        if old is None and policy.renamed_from is not None:
            renamed = have.get(replace(policy, name=policy.renamed_from).key)
            if renamed is not None:
                moved = replace(renamed, name=policy.name)
                changes.append(AlterManagedPolicy(renamed, moved, policy.renamed_from))
                old = moved
        # The comment it has once made (none when made anew or dropped and created)
        # against the one the file wants (or the live one it had).
        had = old.comment.text if old is not None else None
        wanted = policy.comment.wanted(had)
        if old is None:
            changes.append(CreateManagedPolicy(policy))
        elif not _same(old, policy):
            if old.alterable_to(policy):
                changes.append(AlterManagedPolicy(old, policy))
            else:
                changes.append(ReplaceManagedPolicy(old, policy))
                had = None
        changes += comments.comment_change(
            "policy", policy.key, policy.target, had, wanted, ch.Phase.VIEWS
        )
    return changes


def _same(old: ManagedPolicy, new: ManagedPolicy) -> bool:
    return (old.command, old.permissive, old.roles, old.using, old.check) == (
        new.command,
        new.permissive,
        new.roles,
        new.using,
        new.check,
    )


def policies_following_renamed_tables(
    renamed: Mapping[QualifiedName, QualifiedName],
    objects: list[ch.Change],
    unmanaged: Sequence[Unmanaged],
) -> tuple[list[ch.Change], tuple[Unmanaged, ...]]:
    """A declared policy on a table the plan renames (`renamed`: new name -> old) is the
    live one under the table's old name (read as unmanaged there): it moves with the table,
    so it is compared rather than created again, and is no longer unmanaged."""
    under_old_names = {
        (u.drop.policy.table, u.drop.policy.name): u
        for u in unmanaged
        if isinstance(u.drop, PruneManagedPolicy)
    }
    taken: set[str] = set()
    result: list[ch.Change] = []
    for change in objects:
        if isinstance(change, CreateManagedPolicy):
            new = change.policy
            found = under_old_names.get((renamed.get(new.table, new.table), new.name))
            if found is not None and isinstance(found.drop, PruneManagedPolicy):
                taken.add(found.key)
                have = replace(found.drop.policy, table=new.table)
                if not _same(have, new):
                    moved = AlterManagedPolicy if have.alterable_to(new) else ReplaceManagedPolicy
                    result.append(moved(have, new))
                continue
        result.append(change)
    return result, tuple(u for u in unmanaged if u.key not in taken)


def rebuilt_as_declared(
    changes: list[ch.Change], objects: list[ch.Change]
) -> tuple[list[ch.Change], list[ch.Change]]:
    """A declared policy that changes and reads a column whose type changes is made again
    after the type change as the file declares it, not as it was (which may not fit the
    new type): the table changes' CreatePolicy takes the declared one, the kind's change
    goes."""
    wanted = {
        (c.new.table, c.new.name): c
        for c in objects
        if isinstance(c, ReplaceManagedPolicy)
        or (isinstance(c, AlterManagedPolicy) and c.renamed_from is None)
    }
    if not wanted:
        return changes, objects
    taken: set[int] = set()
    result: list[ch.Change] = []
    for change in changes:
        if isinstance(change, cc.CreatePolicy):
            found = wanted.get((change.table, change.policy.name))
            if found is not None and isinstance(found, AlterManagedPolicy | ReplaceManagedPolicy):
                change = replace(change, policy=_as_rebuilt(found.new, change.policy.reads))
                taken.add(id(found))
        result.append(change)
    return result, [c for c in objects if id(c) not in taken]


def _as_rebuilt(policy: ManagedPolicy, reads: frozenset[str]) -> Policy:
    roles = tuple(
        "PUBLIC" if r == PUBLIC else sql.Identifier(r).as_string(None) for r in policy.roles
    )
    return Policy(
        policy.name,
        policy.permissive,
        policy.command.upper(),
        roles,
        policy.using,
        policy.check,
        reads,
    )


# --- SQL ------------------------------------------------------------------------------


def _roles(policy: ManagedPolicy) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL("PUBLIC") if r == PUBLIC else sql.Identifier(r) for r in policy.roles
    )


def _create(policy: ManagedPolicy) -> Statement:
    parts: list[sql.Composable] = [
        sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
            sql.Identifier(policy.name),
            qualified(policy.table),
            sql.SQL("PERMISSIVE" if policy.permissive else "RESTRICTIVE"),
            sql.SQL(policy.command.upper()),
            _roles(policy),
        )
    ]
    # The expressions are pg_get_expr's (or, on the scratch server, checked as one each).
    if policy.using is not None:
        parts.append(sql.SQL("USING ({})").format(sql.SQL(policy.using)))
    if policy.check is not None:
        parts.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(policy.check)))
    return make_statement(Form.CREATE_POLICY, sql.SQL(" ").join(parts))


def _drop(policy: ManagedPolicy) -> Statement:
    text = sql.SQL("DROP POLICY {} ON {}").format(
        sql.Identifier(policy.name), qualified(policy.table)
    )
    return make_statement(Form.DROP_POLICY, text)


@ddl_statements.register
def _(change: CreateManagedPolicy) -> list[Statement]:
    return [_create(change.policy)]


@ddl_statements.register
def _(change: ReplaceManagedPolicy) -> list[Statement]:
    return [_drop(change.old), _create(change.new)]


@ddl_statements.register
def _(change: AlterManagedPolicy) -> list[Statement]:
    new, old = change.new, change.old
    if change.renamed_from is not None:
        text = sql.SQL("ALTER POLICY {} ON {} RENAME TO {}").format(
            sql.Identifier(change.renamed_from), qualified(new.table), sql.Identifier(new.name)
        )
        return [make_statement(Form.ALTER_POLICY, text)]
    parts: list[sql.Composable] = [
        sql.SQL("ALTER POLICY {} ON {}").format(sql.Identifier(new.name), qualified(new.table))
    ]
    if new.roles != old.roles:
        parts.append(sql.SQL("TO {}").format(_roles(new)))
    if new.using is not None and new.using != old.using:
        parts.append(sql.SQL("USING ({})").format(sql.SQL(new.using)))
    if new.check is not None and new.check != old.check:
        parts.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(new.check)))
    return [make_statement(Form.ALTER_POLICY, sql.SQL(" ").join(parts))]


@ddl_statements.register
def _(change: DropManagedPolicy) -> list[Statement]:
    return [_drop(change.policy)]


@hazards.register
def _(change: PruneManagedPolicy) -> list[Hazard]:
    policy = change.policy
    detail = f"drops policy {policy.name} on {policy.table}, which the file does not declare"
    return [Hazard("destructive", f"{detail} (--prune)")]


# --- dump -----------------------------------------------------------------------------


def policy_key(policy: ManagedPolicy) -> str:
    name = shown_part(policy.name)
    if policy.table.schema == "public":
        return f"{shown_part(policy.table.name)}.{name}"
    return f"{shown(policy.table)}.{name}"


def policy_document(policy: ManagedPolicy) -> dict[str, Any]:
    """The file's fields: the defaults (all, permissive, to public) left out."""
    document: dict[str, Any] = {}
    if policy.command != "all":
        document["command"] = policy.command
    if not policy.permissive:
        document["restrictive"] = True
    if policy.roles != (PUBLIC,):
        document["roles"] = list(policy.roles)
    if policy.using is not None:
        document["using"] = policy.using
    if policy.check is not None:
        document["with_check"] = policy.check
    return comments.with_comment(document, policy.comment.text)


__all__ = ["KIND", "CreateManagedPolicy", "DropManagedPolicy", "ManagedPolicy"]
