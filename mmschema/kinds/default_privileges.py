"""Default privileges: declared under `default_privileges:` per role (and schema), compared
with pg_default_acl, changed with ALTER DEFAULT PRIVILEGES."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import kind_sql
from mmschema.ddl.base import Statement, make_statement, statements
from mmschema.desired.build import Context
from mmschema.desired.checks import shown_part
from mmschema.desired.declared import DesiredState, Source
from mmschema.kinds.base import KindObject, Unmanaged
from mmschema.kinds.grants import (
    PRIVILEGES,
    PUBLIC,
    Grant,
    Privileges,
    check_roles,
    grants_document,
)
from mmschema.locks import Form
from mmschema.model import Catalog
from mmschema.scratch_chunks import ScratchRun

FILE_KEY = "default_privileges"
# The file's object types, pg_default_acl's letter for each and the privileges each takes.
OBJECT_TYPES = {"tables": "r", "sequences": "S", "functions": "f", "types": "T", "schemas": "n"}
_LETTERS = {letter: word for word, letter in OBJECT_TYPES.items()}
_TAKES = {
    "tables": PRIVILEGES["table"],
    "sequences": PRIVILEGES["sequence"],
    "functions": PRIVILEGES["function"],
    "types": ("USAGE",),
    "schemas": PRIVILEGES["schema"],
}
# What PostgreSQL gives when a role has no entry for all schemas (acldefault), the role's
# own privileges aside.
_BUILT_IN = {"functions": ((PUBLIC, "EXECUTE"),), "types": ((PUBLIC, "USAGE"),)}

# (schema or "" for all schemas, object type, grantee, privilege)
Entry = tuple[str, str, str, str]


@dataclass(frozen=True)
class DefaultPrivileges:
    """What a role's future objects get: declared entries (by schema and object type: only
    those the file lists are managed), or the live ones (every entry the role has)."""

    role: str
    grants: frozenset[tuple[Entry, bool]] = frozenset()  # with grant option
    given: frozenset[tuple[str, str]] = frozenset()  # (schema, object type) the file lists
    revoked: frozenset[Entry] = frozenset()  # `state: absent`
    state: str = field(default="present", compare=False)
    source: Source | None = field(default=None, compare=False)
    roles: tuple[tuple[str, Source], ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        return f"default privileges of {self.role}"

    def held(self, schema: str, objtype: str) -> dict[tuple[str, str], bool]:
        """(grantee, privilege) -> grant option, of one schema and object type, as held."""
        return {
            (grantee, privilege): grantable
            for (s, t, grantee, privilege), grantable in self.grants
            if (s, t) == (schema, objtype) and grantee != self.role
        }


@dataclass(frozen=True)
class AlterDefaultPrivileges(ch.KindChange):
    """ALTER DEFAULT PRIVILEGES FOR ROLE ... [IN SCHEMA ...] GRANT / REVOKE ... ON <type>."""

    role: str
    schema: str
    objtype: str
    grants: tuple[tuple[str, str, bool], ...] = ()  # grantee, privilege, grant option
    revokes: tuple[tuple[str, str, bool], ...] = ()  # grantee, privilege, option only
    phase = ch.Phase.VIEWS  # after the schemas are made

    @property
    def kind_name(self) -> str:
        return "alter_default_privileges"

    @property
    def subject(self) -> str:
        where = f" in schema {shown_part(self.schema)}" if self.schema else ""
        return f"{self.objtype} of {self.role}{where}"


class DefaultPrivilegesKind:
    """The default privileges kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, DefaultPrivileges)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_defaults(context, key, spec)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        mine = list(_defaults(declared))
        if not mine:
            return ()
        check_roles(conn, [(role, where) for d in mine for role, where in d.roles])
        return tuple(read_defaults(conn, [d.role for d in mine], []))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(declared)

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        have = {d.role: d for d in _defaults(live)}
        changes: list[ch.Change] = []
        for want in _defaults(desired):
            changes += diff_defaults(have.get(want.role, DefaultPrivileges(want.role)), want)
        return changes

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        if only:
            return {}
        return {d.role: defaults_document(d) for d in read_defaults(conn, [], schemas)}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        return {}  # a rehearsal's copy may be on a server without the roles

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        have = {d.role: d for d in _defaults(live.objects)}
        found: list[Unmanaged] = []
        for want in _defaults(declared):
            old = have.get(want.role, DefaultPrivileges(want.role))
            found += undeclared(old, want)
        return found


KIND = DefaultPrivilegesKind()


def _defaults(objects: Iterable[object]) -> Iterable[DefaultPrivileges]:
    return (o for o in objects if isinstance(o, DefaultPrivileges))


def without_privileges(desired: DesiredState) -> DesiredState:
    """The file without owners, grants and default privileges: what a rehearsal's copy,
    which neither runs them nor may have the roles, is compared with."""
    kept = tuple(o for o in desired.objects if not isinstance(o, Privileges | DefaultPrivileges))
    return replace(desired, objects=kept)


# --- the file -------------------------------------------------------------------------


def build_defaults(context: Context, key: str, spec: Mapping[str, object]) -> DefaultPrivileges:
    path: tuple[str | int, ...] = (FILE_KEY, key)
    roles: list[tuple[str, Source]] = [(key, context.key((FILE_KEY, key)))]
    grants: dict[Entry, bool] = {}
    given: set[tuple[str, str]] = set()
    revoked: set[Entry] = set()
    scopes: list[tuple[str, tuple[str | int, ...], Mapping[str, object]]] = [("", path, spec)]
    in_schema = spec.get("in_schema")
    for schema, inner in (in_schema if isinstance(in_schema, dict) else {}).items():
        if isinstance(schema, str) and isinstance(inner, dict):
            scopes.append((schema, (*path, "in_schema", schema), inner))
    for schema, where, entries in scopes:
        for objtype in OBJECT_TYPES:
            listed = entries.get(objtype)
            if not isinstance(listed, list):
                continue
            if schema and objtype == "schemas":
                context.error((*where, objtype), "default privileges on schemas take no schema")
                continue
            given.add((schema, objtype))
            for i, entry in enumerate(listed):
                if not isinstance(entry, dict):
                    continue
                at = (*where, objtype, i)
                role = entry.get("role")
                if not isinstance(role, str):
                    continue
                grantee = PUBLIC if role.upper() == PUBLIC else role
                if grantee != PUBLIC:
                    roles.append((grantee, context.at((*at, "role"))))
                grantable = entry.get("with_grant_option") is True
                for privilege in _privileges(context, at, objtype, entry):
                    item = (schema, objtype, grantee, privilege)
                    if entry.get("state") == "absent":
                        revoked.add(item)
                    else:
                        grants[item] = grants.get(item, False) or grantable
    return DefaultPrivileges(
        role=key,
        grants=frozenset(grants.items()),
        given=frozenset(given),
        revoked=frozenset(revoked),
        source=context.key((FILE_KEY, key)),
        roles=tuple(roles),
    )


def _privileges(
    context: Context, at: tuple[str | int, ...], objtype: str, entry: Mapping[str, object]
) -> list[str]:
    takes = _TAKES[objtype]
    found: list[str] = []
    listed = entry.get("privileges")
    for j, written in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(written, str):
            continue
        privilege = written.upper()
        if privilege == "ALL":
            found += [p for p in takes if p != "MAINTAIN"]
        elif privilege in takes:
            found.append(privilege)
        else:
            message = (
                f"privilege {written} does not apply to {objtype} (they take {', '.join(takes)})"
            )
            context.error((*at, "privileges", j), message)
    return list(dict.fromkeys(found))


# --- the catalog ----------------------------------------------------------------------


@dataclass
class DefaultRow:
    role: str
    schema: str
    objtype: str
    grants: list[list[str]]


def read_defaults(
    conn: psycopg.Connection[Any], roles: Sequence[str], schemas: Sequence[str]
) -> list[DefaultPrivileges]:
    """The default privileges of these roles (or, with `schemas`, every role's entries for
    all schemas and for those schemas), one object per role, in one query (read only)."""
    params = {"roles": list(roles), "schemas": list(schemas), "dump": bool(schemas)}
    with conn.cursor(row_factory=class_row(DefaultRow)) as cur:
        cur.execute(kind_sql("default_privileges"), params)
        rows = cur.fetchall()
    found: dict[str, dict[Entry, bool]] = {role: {} for role in roles}
    listed: dict[str, set[tuple[str, str]]] = {role: set() for role in roles}
    for row in rows:
        objtype = _LETTERS.get(row.objtype)
        if objtype is None:
            continue  # a type of object a later PostgreSQL adds (large objects)
        held = found.setdefault(row.role, {})
        listed.setdefault(row.role, set()).add((row.schema, objtype))
        for grantee, privilege, grantable in row.grants:
            item = (row.schema, objtype, grantee, privilege)
            held[item] = held.get(item, False) or grantable == "true"
    result = []
    for role, held in found.items():
        for objtype, built_in in _BUILT_IN.items():
            if ("", objtype) not in listed[role]:  # no entry: PostgreSQL's own defaults
                held.update({("", objtype, grantee, p): False for grantee, p in built_in})
        result.append(DefaultPrivileges(role, frozenset(held.items()), frozenset(listed[role])))
    return result


# --- the diff -------------------------------------------------------------------------


def diff_defaults(live: DefaultPrivileges, want: DefaultPrivileges) -> list[ch.Change]:
    """Per schema and object type the file lists: the grants missing, the revokes asked."""
    changes: list[ch.Change] = []
    for schema, objtype in sorted(want.given | {(s, t) for s, t, _, _ in want.revoked}):
        held = live.held(schema, objtype)
        wanted = want.held(schema, objtype)
        grants = tuple(
            (grantee, privilege, grantable)
            for (grantee, privilege), grantable in sorted(wanted.items())
            if (grantee, privilege) not in held or (grantable and not held[(grantee, privilege)])
        )
        revokes = tuple(
            (grantee, privilege, False)
            for s, t, grantee, privilege in sorted(want.revoked)
            if (s, t) == (schema, objtype)
            and (grantee, privilege) in held
            and (grantee, privilege) not in wanted
        )
        if grants or revokes:
            changes.append(AlterDefaultPrivileges(want.role, schema, objtype, grants, revokes))
    return changes


def undeclared(live: DefaultPrivileges, want: DefaultPrivileges) -> list[Unmanaged]:
    """Live entries of a schema and object type the file lists that it does not declare."""
    found: list[Unmanaged] = []
    for schema, objtype in sorted(want.given):
        wanted = want.held(schema, objtype)
        for (grantee, privilege), grantable in sorted(live.held(schema, objtype).items()):
            option = (
                (grantee, privilege) in wanted and grantable and not wanted[(grantee, privilege)]
            )
            if (grantee, privilege) in wanted and not option:
                continue
            where = f" in schema {shown_part(schema)}" if schema else ""
            label = (
                f"default privilege {privilege} on {objtype} of {want.role}{where} "
                f"to {grantee}{' with grant option' if option else ''}"
            )
            drop = AlterDefaultPrivileges(
                want.role, schema, objtype, revokes=((grantee, privilege, option),)
            )
            found.append(
                Unmanaged(f"{want.key} {schema} {objtype} {grantee} {privilege}", label, drop)
            )
    return found


# --- SQL ------------------------------------------------------------------------------


def _grantee(role: str) -> sql.Composable:
    return sql.SQL(PUBLIC) if role == PUBLIC else sql.Identifier(role)


@statements.register
def _(change: AlterDefaultPrivileges) -> list[Statement]:
    head = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {}").format(sql.Identifier(change.role))
    if change.schema:
        head = sql.SQL("{} IN SCHEMA {}").format(head, sql.Identifier(change.schema))
    on = sql.SQL(change.objtype.upper())  # one of OBJECT_TYPES
    made: list[Statement] = []
    for grantee, privilege, option in change.revokes:
        text = sql.SQL("{} REVOKE {}{} ON {} FROM {}").format(
            head,
            sql.SQL("GRANT OPTION FOR " if option else ""),
            sql.SQL(privilege),  # from the fixed lists or aclexplode
            on,
            _grantee(grantee),
        )
        made.append(make_statement(Form.GRANT, text))
    for grantee, privilege, grantable in change.grants:
        text = sql.SQL("{} GRANT {} ON {} TO {}{}").format(
            head,
            sql.SQL(privilege),
            on,
            _grantee(grantee),
            sql.SQL(" WITH GRANT OPTION" if grantable else ""),
        )
        made.append(make_statement(Form.GRANT, text))
    return made


# --- dump -----------------------------------------------------------------------------


def defaults_document(defaults: DefaultPrivileges) -> dict[str, Any]:
    """A role's entries as the file lists them: object types, then `in_schema`."""
    document: dict[str, Any] = {}
    for schema, objtype in sorted(defaults.given):
        held = defaults.held(schema, objtype)
        entries = grants_document(_as_grants(held))
        if not schema:  # PostgreSQL's own grants the role revoked: revoked by the file too
            gone = [g for g in _BUILT_IN.get(objtype, ()) if g not in held]
            entries += [{"role": r, "privileges": [p], "state": "absent"} for r, p in gone]
        if schema:
            document.setdefault("in_schema", {}).setdefault(schema, {})[objtype] = entries
        else:
            document[objtype] = entries
    if "in_schema" in document:  # after the entries for all schemas
        document["in_schema"] = document.pop("in_schema")
    return document


def _as_grants(held: Mapping[tuple[str, str], bool]) -> list[Grant]:
    return [
        Grant(grantee, privilege, "", grantable) for (grantee, privilege), grantable in held.items()
    ]


__all__ = ["KIND", "AlterDefaultPrivileges", "DefaultPrivileges"]
