"""Owners and privileges: `owner:` and `grants:` on tables, views, materialized views,
sequences, functions, procedures, schemas, domains and types, compared as aclexplode reads
the catalog."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import kind_sql
from mmschema.ddl.base import Statement, make_statement, statements
from mmschema.desired.build import Context
from mmschema.desired.checks import BadName, parse_table_name, shown, shown_part
from mmschema.desired.declared import InvalidFile, Source
from mmschema.kinds.base import KindObject, Unmanaged
from mmschema.kinds.routine_text import SqlProblem, identity_of, parse_signature, routine_key
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName

if TYPE_CHECKING:  # only a type here: the scratch server's run imports the kinds
    from mmschema.scratch_chunks import ScratchRun

FILE_KEY = "grants"  # a key of each object's entry, not a top-level one
PUBLIC = "PUBLIC"
# The sections whose entries may carry `owner` and `grants`, and the sort of their objects.
SECTIONS = {
    "tables": "table",
    "views": "view",
    "materialized_views": "materialized view",
    "sequences": "sequence",
    "functions": "function",
    "procedures": "procedure",
    "schemas": "schema",
    "domains": "domain",
    "composite_types": "type",
    "range_types": "type",
    "enums": "type",
}
_TABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# The privileges each sort takes (ALL stands for them all; MAINTAIN from PostgreSQL 17).
PRIVILEGES: dict[str, tuple[str, ...]] = {
    "table": (*_TABLE, "MAINTAIN"),
    "view": (*_TABLE, "MAINTAIN"),
    "materialized view": (*_TABLE, "MAINTAIN"),
    "sequence": ("USAGE", "SELECT", "UPDATE"),
    "function": ("EXECUTE",),
    "procedure": ("EXECUTE",),
    "schema": ("USAGE", "CREATE"),
    "domain": ("USAGE",),
    "type": ("USAGE",),
    "column": ("SELECT", "INSERT", "UPDATE", "REFERENCES"),
}
_FAMILY = {"schema": "schema", "function": "routine", "procedure": "routine"}
_FAMILY |= {"domain": "type", "type": "type"}
# What GRANT ... ON and ALTER ... OWNER TO call each sort.
_ON = {"sequence": "SEQUENCE", "function": "FUNCTION", "procedure": "PROCEDURE"}
_ON |= {"schema": "SCHEMA", "domain": "DOMAIN", "type": "TYPE"}
_ALTER = {"table": "TABLE", "view": "VIEW", "materialized view": "MATERIALIZED VIEW"}
_ALTER |= {"sequence": "SEQUENCE", "function": "FUNCTION", "procedure": "PROCEDURE"}
_ALTER |= {"domain": "DOMAIN", "type": "TYPE"}


@dataclass(frozen=True)
class Target:
    """The object owned and granted: a relation, a routine (with its identity), a schema or
    a type (a domain, an enum, a composite or range type)."""

    sort: str  # a value of SECTIONS
    schema: str
    name: str
    identity: tuple[str, ...] = ()  # a routine's argument types

    @property
    def family(self) -> str:
        return _FAMILY.get(self.sort, "relation")

    @property
    def label(self) -> str:
        """As plans name it: `public.orders`, `public.add(integer)`, `billing`."""
        if self.family == "schema":
            return shown_part(self.name)
        if self.family == "routine":
            return routine_key(QualifiedName(self.schema, self.name), self.identity)
        return shown(QualifiedName(self.schema, self.name))

    @property
    def key(self) -> str:
        return f"privileges of {self.family} {self.label}"

    def named(self) -> sql.Composable:
        if self.family == "schema":
            return sql.Identifier(self.name)
        qualified = sql.Identifier(self.schema, self.name)
        if self.family == "routine":  # the types were parsed as types and printed by pglast
            types = sql.SQL(", ").join(sql.SQL(t) for t in self.identity)
            return sql.SQL("{}({})").format(qualified, types)
        return qualified


@dataclass(frozen=True, order=True)
class Grant:
    """One privilege held by one role (or PUBLIC), on the object or one of its columns."""

    role: str
    privilege: str
    column: str = ""
    grantable: bool = False

    @property
    def what(self) -> tuple[str, str, str]:
        return (self.role, self.privilege, self.column)

    def shown(self, target: Target) -> str:
        on = f"{target.label}.{shown_part(self.column)}" if self.column else target.label
        return f"grant {self.privilege} on {target.sort} {on} to {self.role}"


@dataclass(frozen=True)
class Privileges:
    """An object's owner and grants as the file declares them (None: not given, left alone)
    or as the target has them (its owner's own privileges left out)."""

    target: Target
    owner: str | None = None
    grants: frozenset[Grant] | None = None
    revoked: frozenset[Grant] = frozenset()  # entries marked `state: absent`
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    roles: tuple[tuple[str, Source], ...] = field(default=(), compare=False)  # where named
    own_acl: bool = field(default=False, compare=False)  # live: not the default ACL
    entries: int = field(default=0, compare=False)  # the file's `grants:` items, as counted

    @property
    def key(self) -> str:
        return self.target.key


def declared_counts(declared: Sequence[object]) -> list[tuple[int, str]]:
    """What a file's owners and grants amount to, for `validate`: its grant entries (one
    per item of a `grants:` list, whatever it names) and the owners it sets."""
    privileges = [p for p in declared if isinstance(p, Privileges)]
    return [
        (sum(p.entries for p in privileges), "grant"),
        (sum(p.owner is not None for p in privileges), "owner"),
    ]


@dataclass(frozen=True)
class Server:
    """What the target's major allows: MAINTAIN (PostgreSQL 17) is part of ALL."""

    maintain: bool
    state: str = "present"
    connected_as: str = field(default="", compare=False)  # the role planning
    # What its default privileges grant on what it makes: (schema or '', object type
    # letter of pg_default_acl, role, privilege, grantable).
    default_grants: tuple[tuple[str, str, str, str, bool], ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        return "privileges of the server"


@dataclass(frozen=True)
class SetPrivileges(ch.KindChange):
    """ALTER ... OWNER TO, the GRANTs the object lacks and the REVOKEs the file asks for."""

    target: Target
    owner: str | None
    grants: tuple[Grant, ...]
    revokes: tuple[Grant, ...]
    phase = ch.Phase.VIEWS  # after the objects are made (the kind is registered last)

    @property
    def kind_name(self) -> str:
        return "set_privileges" if self.grants or self.revokes else "set_owner"

    @property
    def subject(self) -> str:
        return self.target.label


@dataclass(frozen=True)
class RevokeUnmanaged(ch.KindChange):
    """REVOKE of a grant the file does not declare (--prune), or of its grant option."""

    target: Target
    grant: Grant
    option_only: bool = False
    phase = ch.Phase.VIEWS  # after views made again with the grants they had

    @property
    def kind_name(self) -> str:
        return "revoke"

    @property
    def subject(self) -> str:
        return self.target.label


class GrantKind:
    """Owners and grants, as the pipeline sees them: gathered from the other sections."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, Privileges | Server)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        raise NotImplementedError("grants are gathered from each object's entry")

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        mine = list(_privileges(declared))
        if not mine:
            return ()
        facts = check_roles(conn, [(role, where) for p in mine for role, where in p.roles])
        defaults = tuple(
            (schema, letter, role, privilege, grantable == "true")
            for schema, letter, role, privilege, grantable in facts.default_grants
        )
        server = Server(
            facts.version >= 170000, connected_as=facts.connected_as, default_grants=defaults
        )
        return (server, *read_privileges(conn, [p.target for p in mine]))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(declared)  # role and privilege names: nothing for a server to print

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        server = next((s for s in live if isinstance(s, Server)), Server(maintain=True))
        return diff_privileges(list(_privileges(live)), list(_privileges(desired)), server)

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        return {}  # written into the other sections' entries: with_privileges

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        return {}  # a rehearsal's copy may be on a server without the roles

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        have = {p.key: p for p in _privileges(live.objects)}
        server = next((s for s in live.objects if isinstance(s, Server)), Server(True))
        found: list[Unmanaged] = []
        for want in _privileges(declared):
            old = have.get(want.key)
            if old is not None and want.grants is not None:
                found += undeclared(old, want, server)
        return found


KIND = GrantKind()


def _privileges(objects: Iterable[object]) -> Iterable[Privileges]:
    return (o for o in objects if isinstance(o, Privileges))


# --- the file -------------------------------------------------------------------------


def target_of(section: str, key: str) -> Target | None:
    """The object an entry of a section names (None: a key its kind reports as bad)."""
    sort = SECTIONS.get(section)
    if sort is None:
        return None
    if sort == "schema":
        return Target(sort, key, key)
    if sort in ("function", "procedure"):
        try:
            signature = parse_signature(key, sort == "procedure")
        except SqlProblem:
            return None
        return Target(sort, signature.name.schema, signature.name.name, signature.identity)
    try:
        name = parse_table_name(key, "public")
    except BadName:
        return None
    return Target(sort, name.schema, name.name)


def declared_privileges(context: Context, data: Mapping[str, object]) -> list[KindObject]:
    """The owner and grants each present entry of the sections declares (schemas' owners
    are the schemas kind's own)."""
    found: list[KindObject] = []
    for section in SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        for key, spec in entries.items():
            if not isinstance(key, str) or not isinstance(spec, dict):
                continue
            if spec.get("state", "present") != "present":
                continue
            if "grants" not in spec and ("owner" not in spec or section == "schemas"):
                continue
            target = target_of(section, key)
            if target is not None:
                found.append(_build(context, (section, key), target, spec))
    return found


def _build(
    context: Context, path: tuple[str, str], target: Target, spec: Mapping[str, object]
) -> Privileges:
    roles: list[tuple[str, Source]] = []
    owner = spec.get("owner") if target.sort != "schema" else None
    if isinstance(owner, str):
        roles.append((owner, context.at((*path, "owner"))))
    entries = spec.get("grants")
    grants: set[Grant] | None = set() if isinstance(entries, list) else None
    revoked: set[Grant] = set()
    columns = spec.get("columns") if target.sort == "table" else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue  # the JSON Schema check reports it
        made = _entry(context, (*path, "grants", i), target, entry, columns)
        role = entry.get("role")
        if isinstance(role, str) and role.upper() != PUBLIC:
            roles.append((role, context.at((*path, "grants", i, "role"))))
        if entry.get("state") == "absent":
            revoked.update(made)
        elif grants is not None:
            grants.update(made)
    return Privileges(
        target=target,
        owner=owner if isinstance(owner, str) else None,
        grants=frozenset(grants) if grants is not None else None,
        revoked=frozenset(revoked),
        source=context.key(path),
        roles=tuple(roles),
        entries=sum(isinstance(entry, dict) for entry in _list(entries)),
    )


def _entry(
    context: Context,
    path: tuple[str | int, ...],
    target: Target,
    entry: Mapping[str, object],
    declared_columns: object,
) -> list[Grant]:
    role = entry.get("role")
    if not isinstance(role, str):
        return []
    role = PUBLIC if role.upper() == PUBLIC else role
    columns = [c for c in _list(entry.get("columns")) if isinstance(c, str)]
    if (columns and target.family != "relation") or (columns and target.sort == "sequence"):
        context.error((*path, "columns"), f"{target.sort} {target.label} has no columns")
        return []
    if isinstance(declared_columns, dict):
        for j, column in enumerate(columns):
            if column not in declared_columns:
                message = f"grant on column '{column}', which {target.label} does not declare"
                context.error((*path, "columns", j), message)
    sort = "column" if columns else target.sort
    allowed = PRIVILEGES[sort]
    privileges: list[str] = []
    for j, written in enumerate(_list(entry.get("privileges"))):
        if not isinstance(written, str):
            continue
        privilege = written.upper()
        if privilege == "ALL":
            privileges += allowed
        elif privilege in allowed:
            privileges.append(privilege)
        else:
            what = f"a {sort}" if columns else f"{target.sort} {target.label}"
            takes = ", ".join(allowed)
            message = f"privilege {written} does not apply to {what} (it takes {takes})"
            context.error((*path, "privileges", j), message)
    grantable = entry.get("with_grant_option") is True
    return [
        Grant(role, privilege, column, grantable)
        for privilege in dict.fromkeys(privileges)
        for column in (columns or [""])
    ]


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


# --- the catalog ----------------------------------------------------------------------


@dataclass
class PrivilegeRow:
    family: str
    schema: str
    name: str
    identity: str
    detail: str
    owner: str
    own_acl: bool
    grants: list[list[str]]


@dataclass
class RolesRow:
    connected_as: str
    version: int
    roles_found: list[str]
    default_grants: list[list[str]]


def check_roles(conn: psycopg.Connection[Any], named: Sequence[tuple[str, Source]]) -> RolesRow:
    """Roles are not created: a role the file names that the target lacks refuses the file,
    one error per role, where it is first named."""
    roles = sorted({role for role, _ in named})
    with conn.cursor(row_factory=class_row(RolesRow)) as cur:
        cur.execute(kind_sql("roles"), {"roles": roles})
        facts = cur.fetchone()
    assert facts is not None  # one row always
    found = set(facts.roles_found)
    first: dict[str, Source] = {}
    for role, where in named:
        if role not in found:
            first.setdefault(role, where)
    errors = [
        f"{where}: role {role!r} does not exist on the target (roles are not created: "
        f"CREATE ROLE it first)"
        for role, where in first.items()
    ]
    if errors:
        raise InvalidFile(errors)
    return facts


_SORTS = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "materialized view"}
_SORTS |= {"S": "sequence"}


def read_privileges(conn: psycopg.Connection[Any], targets: Sequence[Target]) -> list[Privileges]:
    """The owner and grants of these objects that exist, in one query (read only)."""
    relations = [t for t in targets if t.family == "relation"]
    routines = [t for t in targets if t.family == "routine"]
    params = {
        "rel_schemas": [t.schema for t in relations],
        "rel_names": [t.name for t in relations],
        "fn_schemas": [t.schema for t in routines],
        "fn_names": [t.name for t in routines],
        "schemas": [t.name for t in targets if t.family == "schema"],
        "type_schemas": [t.schema for t in targets if t.family == "type"],
        "type_names": [t.name for t in targets if t.family == "type"],
    }
    with conn.cursor(row_factory=class_row(PrivilegeRow)) as cur:
        cur.execute(kind_sql("grants"), params)
        rows = cur.fetchall()
    return [_from_row(row) for row in rows]


def _from_row(row: PrivilegeRow) -> Privileges:
    if row.family == "routine":
        procedure = row.detail == "p"
        identity = identity_of(row.identity, procedure)
        target = Target("procedure" if procedure else "function", row.schema, row.name, identity)
    elif row.family == "schema":
        target = Target("schema", row.name, row.name)
    elif row.family == "type":
        target = Target("domain" if row.detail == "d" else "type", row.schema, row.name)
    else:
        target = Target(_SORTS.get(row.detail, "table"), row.schema, row.name)
    held: dict[tuple[str, str, str], bool] = {}
    for role, privilege, column, grantable in row.grants:
        if role != row.owner:  # the owner's own privileges are not managed
            key = (role, privilege, column)
            held[key] = held.get(key, False) or grantable == "true"
    return Privileges(
        target=target,
        owner=row.owner,
        grants=frozenset(Grant(*key, grantable) for key, grantable in held.items()),
        own_acl=row.own_acl,
    )


# --- the diff -------------------------------------------------------------------------


def _expanded(grants: Iterable[Grant], server: Server) -> dict[tuple[str, str, str], bool]:
    """Declared grants by (role, privilege, column), MAINTAIN only where the server has it."""
    found: dict[tuple[str, str, str], bool] = {}
    for grant in grants:
        if grant.privilege == "MAINTAIN" and not server.maintain:
            continue
        found[grant.what] = found.get(grant.what, False) or grant.grantable
    return found


def _others(live: Privileges, owner: str | None) -> dict[tuple[str, str, str], bool]:
    """The live grants to roles other than the owner, before and after the plan."""
    return {g.what: g.grantable for g in live.grants or () if g.role not in (live.owner, owner)}


# What PostgreSQL grants PUBLIC on a new object of these families.
_PUBLIC_BY_DEFAULT = {"routine": "EXECUTE", "type": "USAGE"}


def public_by_default(target: Target) -> Grant | None:
    """What PostgreSQL grants PUBLIC on a new object like the target, if anything."""
    privilege = _PUBLIC_BY_DEFAULT.get(target.family)
    return Grant(PUBLIC, privilege) if privilege is not None else None


def diff_privileges(
    live: list[Privileges], desired: list[Privileges], server: Server
) -> list[ch.Change]:
    """Owners set and grants added; revokes only for entries marked `state: absent` (the
    grants the file does not declare are unmanaged: `undeclared`)."""
    have = {p.key: p for p in live}
    changes: list[ch.Change] = []
    for want in desired:
        old = have.get(want.key)
        old_owner = old.owner if old is not None else None
        owner = want.owner if want.owner is not None and want.owner != old_owner else None
        new_owner = want.owner or old_owner
        held = _others(old, new_owner) if old is not None else {}
        wanted = _expanded(want.grants or (), server)
        grants = [
            Grant(*what, grantable)
            for what, grantable in wanted.items()
            if what[0] != new_owner and (what not in held or (grantable and not held[what]))
        ]
        revokes = [
            Grant(*what)
            for what in _expanded(want.revoked, server)
            if what in held and what not in wanted
        ]
        made = old is None and want.grants is not None
        public = _PUBLIC_BY_DEFAULT.get(want.target.family)
        if made and public is not None and (PUBLIC, public, "") not in wanted:
            # A routine or type made by the plan: EXECUTE or USAGE for PUBLIC only if the
            # file grants it.
            revokes.append(Grant(PUBLIC, public))
        if made:  # nor what the applying role's default privileges grant on it
            revokes += [
                g
                for g in default_grants(want.target, server)
                if g.what not in wanted and g.role != new_owner and g not in revokes
            ]
        if owner is not None or grants or revokes:
            changes.append(
                SetPrivileges(
                    want.target,
                    owner,
                    tuple(sorted(grants, key=catalog_order)),
                    tuple(sorted(revokes, key=catalog_order)),
                )
            )
    return changes


# The object types of pg_default_acl, by the sort of the objects made.
_DEFAULT_ACL_TYPE = {"table": "r", "view": "r", "materialized view": "r", "sequence": "S"}
_DEFAULT_ACL_TYPE |= {"function": "f", "procedure": "f", "domain": "T", "type": "T"}
_DEFAULT_ACL_TYPE |= {"schema": "n"}


def default_grants(target: Target, server: Server) -> list[Grant]:
    """What the applying role's default privileges grant on the object when it makes it
    (for every schema, or for the object's)."""
    letter = _DEFAULT_ACL_TYPE.get(target.sort)
    schemas = ("",) if target.family == "schema" else ("", target.schema)
    return [
        Grant(role, privilege)
        for schema, kind, role, privilege, _ in server.default_grants
        if kind == letter and schema in schemas
    ]


def regranted(
    changes: list[ch.Change],
    remade: Iterable[Target],
    live: Sequence[KindObject],
    desired: Sequence[KindObject],
    keep_owner: Collection[str] = (),
) -> list[ch.Change]:
    """The changes with the declared grants of the objects the plan drops and makes again
    (`remade`) given anew after it, and their owner (the declared one, else the old one's
    unless their own change gives it back: the keys of `keep_owner`). PUBLIC's default
    privilege is left as the old object had it."""
    keys = {target.key for target in remade}
    wanted = {p.key: p for p in _privileges(desired) if p.key in keys}
    if not wanted:
        return changes
    have = {p.key: p for p in _privileges(live)}
    server = next((s for s in live if isinstance(s, Server)), Server(maintain=True))
    kept = [c for c in changes if not (isinstance(c, SetPrivileges) and c.target.key in wanted)]
    for key, want in wanted.items():
        old = have.get(key)
        old_owner = old.owner if old is not None else None
        if key in keep_owner:
            owner = want.owner if want.owner != old_owner else None
        else:
            owner = want.owner or old_owner
            owner = None if owner == server.connected_as else owner
        held = _expanded(want.grants or (), server)
        grants = [
            Grant(*what, grantable)
            for what, grantable in held.items()
            if what[0] != (owner or old_owner)
        ]
        revokes = []
        public = _PUBLIC_BY_DEFAULT.get(want.target.family)
        default = (PUBLIC, public or "", "")
        had = {g.what for g in (old.grants or ())} if old is not None else {default}
        if public is not None and default not in held and default not in had:
            revokes.append(Grant(PUBLIC, public))
        if owner is not None or grants or revokes:
            made = SetPrivileges(
                want.target,
                owner,
                tuple(sorted(grants, key=catalog_order)),
                tuple(sorted(revokes, key=catalog_order)),
            )
            kept.append(made)
    return kept


def undeclared(live: Privileges, want: Privileges, server: Server) -> list[Unmanaged]:
    """The live grants on an object the file gives `grants:` for that it does not declare
    (or holds with a grant option the file does not give): unmanaged, revoked by --prune."""
    wanted = _expanded(want.grants or (), server)
    found: list[Unmanaged] = []
    revoked = _expanded(want.revoked, server)
    for what, grantable in sorted(_others(live, want.owner or live.owner).items()):
        grant = Grant(*what, grantable)
        if what in revoked and what not in wanted:
            continue  # the plan revokes it
        if what not in wanted:
            drop = RevokeUnmanaged(want.target, grant)
            found.append(Unmanaged(f"{want.key} {what}", grant.shown(want.target), drop))
        elif grantable and not wanted[what]:
            drop = RevokeUnmanaged(want.target, grant, option_only=True)
            label = f"{grant.shown(want.target)} with grant option"
            found.append(Unmanaged(f"{want.key} {what} option", label, drop))
    return found


# --- SQL ------------------------------------------------------------------------------


def _grantee(role: str) -> sql.Composable:
    return sql.SQL(PUBLIC) if role == PUBLIC else sql.Identifier(role)


def _on(target: Target) -> sql.Composable:
    return sql.SQL("{} {}").format(sql.SQL(_ON.get(target.sort, "TABLE")), target.named())


def _privilege_list(grants: Sequence[Grant]) -> sql.Composable:
    """`SELECT, INSERT` on the object, or `SELECT (a, b)` on columns."""
    # privileges: from the fixed lists above or aclexplode; columns quoted
    words = sql.SQL(", ").join(sql.SQL(p) for p in dict.fromkeys(g.privilege for g in grants))
    columns = [g.column for g in grants if g.column]
    if not columns:
        return words
    return sql.SQL("{} ({})").format(words, sql.SQL(", ").join(map(sql.Identifier, columns)))


def _grouped(grants: Sequence[Grant]) -> list[list[Grant]]:
    """One statement per role and grant option for the object (privileges in the catalog's
    order), one per role, grant option and privilege for its columns."""
    groups: dict[tuple[str, bool, str], list[Grant]] = {}
    for grant in grants:
        one = grant.privilege if grant.column else ""
        groups.setdefault((grant.role, grant.grantable, one), []).append(grant)
    return list(groups.values())


def _form(target: Target, owner: bool) -> Form:
    if not owner:
        return Form.GRANT
    if target.family == "type":
        return Form.TYPE_OWNER
    return Form.RELATION_OWNER if target.family == "relation" else Form.ROUTINE_PRIVILEGES


def grant_statements(target: Target, grants: Sequence[Grant]) -> list[Statement]:
    made = []
    for group in _grouped(grants):
        text = sql.SQL("GRANT {} ON {} TO {}{}").format(
            _privilege_list(group),
            _on(target),
            _grantee(group[0].role),
            sql.SQL(" WITH GRANT OPTION" if group[0].grantable else ""),
        )
        made.append(make_statement(Form.GRANT, text))
    return made


def revoke_statements(
    target: Target, grants: Sequence[Grant], option_only: bool = False
) -> list[Statement]:
    made = []
    for group in _grouped([Grant(g.role, g.privilege, g.column) for g in grants]):
        text = sql.SQL("REVOKE {}{} ON {} FROM {}").format(
            sql.SQL("GRANT OPTION FOR " if option_only else ""),
            _privilege_list(group),
            _on(target),
            _grantee(group[0].role),
        )
        made.append(make_statement(Form.GRANT, text))
    return made


@statements.register
def _(change: SetPrivileges) -> list[Statement]:
    target = change.target
    made: list[Statement] = []
    if change.owner is not None:
        text = sql.SQL("ALTER {} {} OWNER TO {}").format(
            sql.SQL(_ALTER[target.sort]), target.named(), sql.Identifier(change.owner)
        )
        made.append(make_statement(_form(target, owner=True), text))
    made += revoke_statements(target, change.revokes)
    return made + grant_statements(target, change.grants)


@statements.register
def _(change: RevokeUnmanaged) -> list[Statement]:
    return revoke_statements(change.target, [change.grant], change.option_only)


# --- dump -----------------------------------------------------------------------------


def with_privileges(
    conn: psycopg.Connection[Any],
    document: dict[str, Any],
    schemas: Sequence[str],
    every: bool = False,
) -> None:
    """Each dumped entry with its owner (when not the role dumping) and its grants (when
    they are not the default ones, or `every`: always); a schema of `schemas` with grants
    gets an entry."""
    targets: dict[tuple[str, str], Target] = {}
    for section in SECTIONS:
        for key in document.get(section) or {}:
            target = target_of(section, key)
            if target is not None:
                targets[(section, key)] = target
    for schema in schemas:
        if schema != "public" and ("schemas", schema) not in targets:
            targets[("schemas", schema)] = Target("schema", schema, schema)
    if not targets:
        return
    connected_as = check_roles(conn, []).connected_as
    found = {p.key: p for p in read_privileges(conn, list(targets.values()))}
    for (section, key), target in targets.items():
        live = found.get(target.key)
        if live is None:
            continue
        entry: dict[str, Any] = {}
        if section != "schemas" and live.owner not in (None, connected_as):
            entry["owner"] = live.owner
        listed = every and key in (document.get(section) or {})
        if live.own_acl or listed:
            entry["grants"] = grants_document(live.grants or frozenset())
        if not entry:
            continue
        document.setdefault(section, {}).setdefault(key, {}).update(entry)


def grants_document(grants: Iterable[Grant]) -> list[dict[str, Any]]:
    """Grants as the file lists them: one entry per role and grant option for the object,
    one per role, grant option and privileges for the columns that share them."""
    by_column: dict[tuple[str, bool, str], list[str]] = {}
    for grant in sorted(grants, key=catalog_order):
        key = (grant.role, grant.grantable, grant.column)
        by_column.setdefault(key, []).append(grant.privilege)
    merged: dict[tuple[str, bool, tuple[str, ...], bool], list[str]] = {}
    for (role, grantable, column), listed in by_column.items():
        merged.setdefault((role, grantable, tuple(listed), bool(column)), []).append(column)
    entries: list[dict[str, Any]] = []
    for (role, grantable, privileges, on_columns), columns in merged.items():
        entry: dict[str, Any] = {"role": role, "privileges": list(privileges)}
        if on_columns:
            entry["columns"] = columns
        if grantable:
            entry["with_grant_option"] = True
        entries.append(entry)
    return entries


_ORDER = {p: i for i, p in enumerate((*_TABLE, "MAINTAIN", "USAGE", "EXECUTE", "CREATE"))}


def catalog_order(grant: Grant) -> tuple[str, bool, str, int]:
    return (grant.role, grant.grantable, grant.column, _ORDER.get(grant.privilege, 99))


__all__ = ["KIND", "RevokeUnmanaged", "SetPrivileges", "declared_privileges", "with_privileges"]
