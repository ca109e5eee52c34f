"""DDL for the views and policies a change must drop and create again, as they were."""

from __future__ import annotations

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import Statement, comment, make_statement, qualified, statements
from mmschema.locks import Form


@statements.register
def _(change: ch.DropView) -> list[Statement]:
    drop = sql.SQL("DROP VIEW IF EXISTS {}").format(qualified(change.view.name))
    return [make_statement(Form.DROP_VIEW, drop)]


@statements.register
def _(change: ch.CreateView) -> list[Statement]:
    view = change.view
    options = (
        sql.SQL(" WITH ({})").format(sql.SQL(", ").join(map(sql.SQL, view.options)))
        if view.options
        else sql.SQL("")
    )
    definition = sql.SQL(view.definition.strip().removesuffix(";"))
    create = sql.SQL("CREATE VIEW {}{} AS {}").format(qualified(view.name), options, definition)
    result = [make_statement(Form.CREATE_VIEW, create)]
    if view.comment is not None:
        result.append(comment("view", view.name, view.name.name, view.comment))
    if view.owner:
        owner = sql.SQL("ALTER VIEW {} OWNER TO {}").format(
            qualified(view.name), sql.Identifier(view.owner)
        )
        result.append(make_statement(Form.CREATE_VIEW, owner))
    for grantee, privilege in view.grants:
        grant = sql.SQL("GRANT {} ON {} TO {}").format(
            sql.SQL(privilege), qualified(view.name), sql.SQL(grantee)
        )
        result.append(make_statement(Form.CREATE_VIEW, grant))
    return result


@statements.register
def _(change: ch.DropPolicy) -> list[Statement]:
    drop = sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(
        sql.Identifier(change.policy.name), qualified(change.table)
    )
    return [make_statement(Form.DROP_POLICY, drop)]


@statements.register
def _(change: ch.CreatePolicy) -> list[Statement]:
    policy = change.policy
    parts = [
        sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
            sql.Identifier(policy.name),
            qualified(change.table),
            sql.SQL("PERMISSIVE" if policy.permissive else "RESTRICTIVE"),
            sql.SQL(policy.command),
            sql.SQL(", ").join(map(sql.SQL, policy.roles or ("PUBLIC",))),
        )
    ]
    if policy.using is not None:
        parts.append(sql.SQL("USING ({})").format(sql.SQL(policy.using)))
    if policy.check is not None:
        parts.append(sql.SQL("WITH CHECK ({})").format(sql.SQL(policy.check)))
    return [make_statement(Form.CREATE_POLICY, sql.SQL(" ").join(parts))]
