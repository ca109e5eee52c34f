"""Before apply changes anything: may the current role run every statement of the plan?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from mmschema import changes as ch
from mmschema.introspect import catalog_sql
from mmschema.kinds.default_privileges import AlterDefaultPrivileges
from mmschema.kinds.grants import SetPrivileges
from mmschema.kinds.tables import changes as tc
from mmschema.model import QualifiedName
from mmschema.plan import Plan


@dataclass(frozen=True)
class _Grant:
    exists: bool
    owner: str
    acts_as_owner: bool  # tables and types: owner's rights; schemas and the database: CREATE
    references: bool  # tables: the role may reference it; roles: a superuser


@dataclass(frozen=True)
class _Needs:
    """What a plan asks of the role: owned tables and types, referenced tables, schemas."""

    owned: tuple[QualifiedName, ...]
    referenced: tuple[QualifiedName, ...]
    types: tuple[QualifiedName, ...]
    create_in: tuple[str, ...]
    new_schemas: tuple[str, ...]
    act_as: tuple[tuple[str, str], ...] = ()  # (role, what needs it): owners, FOR ROLE


def missing_privileges(conn: psycopg.Connection[Any], plan: Plan) -> list[str]:
    """One line per thing the plan needs that the current role may not do (empty: all fine)."""
    needs = _needs(plan)
    grants = _read(conn, needs)
    role = _current_role(conn)
    problems: list[str] = []
    for table in needs.owned:
        grant = grants.get(("table", _regclass(conn, table)))
        if grant is not None and grant.exists and not grant.acts_as_owner:
            problems.append(
                f"table {table} is owned by {grant.owner}; role {role} cannot alter it "
                f"(apply as {grant.owner}, or GRANT {grant.owner} TO {role})"
            )
    for table in needs.referenced:
        grant = grants.get(("table", _regclass(conn, table)))
        if grant is not None and grant.exists and not (grant.acts_as_owner or grant.references):
            problems.append(
                f"a foreign key references table {table}, owned by {grant.owner}; role {role} "
                f"needs GRANT REFERENCES ON {table} TO {role}"
            )
    for name in needs.types:
        grant = grants.get(("type", _regtype(conn, name)))
        if grant is not None and grant.exists and not grant.acts_as_owner:
            problems.append(
                f"type {name} is owned by {grant.owner}; role {role} cannot alter it "
                f"(apply as {grant.owner})"
            )
    database = next((g for (kind, _), g in grants.items() if kind == "database"), None)
    for schema in needs.create_in:
        grant = grants.get(("schema", schema))
        if grant is None or not grant.exists:
            continue  # created by the plan (checked below) or reported by the server
        if not grant.acts_as_owner:
            problems.append(
                f"role {role} may not create in schema {schema} (owned by {grant.owner}): "
                f"GRANT CREATE ON SCHEMA {schema} TO {role}"
            )
    for owner, what in needs.act_as:
        grant = grants.get(("role", owner))
        if grant is not None and grant.exists and not grant.acts_as_owner:
            # Membership in a superuser would make the role a superuser: never advise it.
            fix = (
                f"apply as {owner}, or name an owner role {role} is a member of"
                if grant.references
                else f"GRANT {owner} TO {role}"
            )
            problems.append(f"role {role} is not a member of role {owner} ({what}): {fix}")
    if needs.new_schemas and database is not None and not database.acts_as_owner:
        problems.append(
            f"role {role} may not create schemas ({', '.join(needs.new_schemas)}) in this "
            f"database: GRANT CREATE ON DATABASE to it"
        )
    return problems


def _needs(plan: Plan) -> _Needs:
    owned: dict[QualifiedName, None] = {}
    referenced: dict[QualifiedName, None] = {}
    types: dict[QualifiedName, None] = {}
    create_in: dict[str, None] = {}
    new_schemas: dict[str, None] = {}
    act_as: dict[tuple[str, str], None] = {}
    for planned in plan.changes:
        change = planned.change
        before = tc.table_before(change)
        if before is not None:
            owned[before] = None
        after = tc.table_after(change)
        if after is not None and before != after:
            create_in[after.schema] = None
        match change:
            case ch.CreateSchema(name=name):
                new_schemas[name] = None
            case ch.CreateEnum(name=name):
                create_in[name.schema] = None
            case (
                ch.AddEnumValue(name=name)
                | ch.RenameEnumValue(name=name)
                | ch.RebuildEnum(name=name)
                | ch.DropEnum(name=name)
            ):
                types[name] = None
            case tc.AttachPartition(parent=parent) | tc.DetachPartition(parent=parent):
                owned[parent] = None
            case tc.AddForeignKey(key=key):
                referenced[key.references] = None
            case SetPrivileges(owner=str(owner), target=target):
                act_as[(owner, f"to give it {target.sort} {target.label}")] = None
            case AlterDefaultPrivileges(role=owner):
                act_as[(owner, "to alter its default privileges")] = None
            case _:
                pass
    return _Needs(
        tuple(owned),
        tuple(referenced),
        tuple(types),
        tuple(create_in),
        tuple(new_schemas),
        tuple(act_as),
    )


def _read(conn: psycopg.Connection[Any], needs: _Needs) -> dict[tuple[str, str], _Grant]:
    tables = [_regclass(conn, t) for t in (*needs.owned, *needs.referenced)]
    types = [_regtype(conn, t) for t in needs.types]
    schemas = list(needs.create_in)
    roles = sorted({owner for owner, _ in needs.act_as})
    params = {"tables": tables, "schemas": schemas, "types": types, "roles": roles}
    rows = conn.execute(catalog_sql("apply_privileges"), params).fetchall()
    return {(kind, name): _Grant(*flags) for kind, name, *flags in rows}


def _regclass(conn: psycopg.Connection[Any], table: QualifiedName) -> str:
    return sql.Identifier(table.schema, table.name).as_string(conn)


_regtype = _regclass


def _current_role(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_user").fetchone()
    return str(row[0]) if row else "?"
