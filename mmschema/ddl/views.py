"""DDL for the views, policies and triggers a change must drop and create again, as they were."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from mmschema.ddl.base import Statement, comment, make_statement, qualified, statements
from mmschema.kinds.tables import column_changes as cc
from mmschema.locks import Form
from mmschema.model import QualifiedName


@statements.register
def _(change: cc.DropView) -> list[Statement]:
    if change.view.materialized:
        drop = sql.SQL("DROP MATERIALIZED VIEW IF EXISTS {}").format(qualified(change.view.name))
        return [make_statement(Form.DROP_MATVIEW, drop)]
    drop = sql.SQL("DROP VIEW IF EXISTS {}").format(qualified(change.view.name))
    return [make_statement(Form.DROP_VIEW, drop)]


@statements.register
def _(change: cc.CreateView) -> list[Statement]:
    view = change.view
    options = (
        sql.SQL(" WITH ({})").format(sql.SQL(", ").join(map(sql.SQL, view.options)))
        if view.options
        else sql.SQL("")
    )
    definition = sql.SQL(view.definition.strip().removesuffix(";"))
    what = "materialized view" if view.materialized else "view"
    create = sql.SQL("CREATE {} {}{} AS {}").format(
        sql.SQL(what.upper()), qualified(view.name), options, definition
    )
    if view.materialized:
        # On a line of its own: the query cannot swallow it, whatever it ends in.
        data = "\nWITH DATA" if view.populated else "\nWITH NO DATA"
        result = [make_statement(Form.CREATE_MATVIEW, create + sql.SQL(data))]
        # As pg_get_indexdef printed them (or the file's index, rendered by mmschema).
        result += [make_statement(Form.CREATE_MATVIEW, sql.SQL(i)) for i in view.indexes]
    else:
        result = [make_statement(Form.CREATE_VIEW, create)]
    if view.comment is not None:
        result.append(comment(what, view.name, view.name.name, view.comment))
    return [*result, *owner_and_grants(view.name, view.owner, view.grants, what)]


def owner_and_grants(
    name: QualifiedName, owner: str, grants: Sequence[tuple[str, str]], what: str = "view"
) -> list[Statement]:
    """A view made again gets its owner and the grants it had (grantee quoted, or PUBLIC;
    with WITH GRANT OPTION when it had it)."""
    result = []
    if owner:
        text = sql.SQL("ALTER {} {} OWNER TO {}").format(
            sql.SQL(what.upper()), qualified(name), sql.Identifier(owner)
        )
        result.append(make_statement(Form.VIEW_PRIVILEGES, text))
    for grantee, privilege in grants:
        grant = sql.SQL("GRANT {} ON {} TO {}").format(
            sql.SQL(privilege), qualified(name), sql.SQL(grantee)
        )
        result.append(make_statement(Form.VIEW_PRIVILEGES, grant))
    return result


@statements.register
def _(change: cc.DropPolicy) -> list[Statement]:
    drop = sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(
        sql.Identifier(change.policy.name), qualified(change.table)
    )
    return [make_statement(Form.DROP_POLICY, drop)]


@statements.register
def _(change: cc.CreatePolicy) -> list[Statement]:
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


# ALTER TABLE ... ENABLE/DISABLE TRIGGER for each tgenabled other than the default (O).
TRIGGER_STATES = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}


@statements.register
def _(change: cc.DropTrigger) -> list[Statement]:
    drop = sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
        sql.Identifier(change.trigger.name), qualified(change.table)
    )
    return [make_statement(Form.DROP_TRIGGER, drop)]


@statements.register
def _(change: cc.CreateTrigger) -> list[Statement]:
    trigger = change.trigger
    # As pg_get_triggerdef printed it (catalog text, never the file's).
    result = [make_statement(Form.CREATE_TRIGGER, sql.SQL(trigger.definition))]
    state = TRIGGER_STATES.get(trigger.enabled)
    if state is not None:
        text = sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
            qualified(change.table), sql.SQL(state), sql.Identifier(trigger.name)
        )
        result.append(make_statement(Form.ENABLE_TRIGGER, text))
    if trigger.comment is not None:
        text = sql.SQL("COMMENT ON TRIGGER {} ON {} IS {}").format(
            sql.Identifier(trigger.name), qualified(change.table), sql.Literal(trigger.comment)
        )
        result.append(make_statement(Form.COMMENT, text))
    return result
