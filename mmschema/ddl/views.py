"""DDL for the views a change must drop and create again: exactly as they were."""

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
