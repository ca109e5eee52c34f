"""Declared views and materialized views that change and read a retyped column: made again
after the type change as the file declares them, in its transaction, not as they were."""

from __future__ import annotations

from dataclasses import replace

from psycopg import sql

from mmschema import changes as ch
from mmschema.ddl.base import render
from mmschema.kinds import matviews, views
from mmschema.kinds.functions import CreateRoutine
from mmschema.kinds.tables import column_changes as cc
from mmschema.kinds.tables.indexes import create_index
from mmschema.model import View

Declared = views.ManagedView | matviews.ManagedMatview


def remade_as_declared(
    changes: list[ch.Change], objects: list[ch.Change]
) -> tuple[list[ch.Change], list[ch.Change]]:
    """The table changes' CreateView of a view (or materialized view) that a type change
    drops takes the declared definition when the file changes it (the kind's rebuild or
    replacement then goes): the old one may not fit the new type, and made as it was it
    would only be dropped again. Each run of those CreateViews is then ordered by what the
    views read, the declared ones by the file's text."""
    creates = {str(c.view.name): i for i, c in enumerate(changes) if isinstance(c, cc.CreateView)}
    if not creates:
        return changes, objects
    made_later = _made_later(objects)
    result = list(changes)
    taken: set[int] = set()
    reads: dict[str, set[str]] = {}
    for change in objects:
        found = _declared_of(change)
        if found is None:
            continue
        declared, readers = found
        at = creates.get(declared.key)
        if at is None or any(r.key not in creates for r in readers):
            continue  # not dropped by a type change, or a reader is not (kept as it was)
        if any(key in made_later for key in declared.reads) or _calls(declared, made_later):
            continue  # reads what the plan makes only later: the kind's change stays
        made = changes[at]
        assert isinstance(made, cc.CreateView)
        result[at] = replace(made, view=_as_view(declared, made.view))
        reads[declared.key] = set(declared.reads)
        taken.add(id(change))
    if not taken:
        return changes, objects
    return _reads_first(result, reads), [c for c in objects if id(c) not in taken]


def _declared_of(change: ch.Change) -> tuple[Declared, tuple[Declared, ...]] | None:
    """The declared object a kind's change makes anew, owned as the live one, with the
    readers it makes again too; None for any other change."""
    match change:
        case views.RebuildView(new=new, readers=readers):
            return new, readers
        case views.CreateView(view=view, replace=True, only_comment=False):
            return view, ()
        case matviews.RebuildMatview(old=old, new=new, readers=readers, source_rows=None) if (
            old.name == new.name
        ):
            # (A large build keeps its own change, which says it is long-running.)
            declared = {i.name for i in new.indexes} | set(new.absent_indexes)
            kept = tuple(i for i in old.indexes if i.name not in declared)
            return replace(new, indexes=(*new.indexes, *kept)), readers
    return None


def _made_later(objects: list[ch.Change]) -> set[str]:
    """Keys of the views and materialized views the kinds' changes make (after the table
    changes), and names of the routines they create."""
    made: set[str] = set()
    for change in objects:
        match change:
            case views.CreateView(view=view, replace=False):
                made.add(view.key)
            case matviews.CreateMatview(view=view):
                made.add(view.key)
            case matviews.AlterMatview(view=view, renamed_from=old) if old is not None:
                made.add(view.key)
            case CreateRoutine(routine=routine, only_comment=False):
                made.add(routine.name.name)
    return made


def _calls(declared: Declared, names: set[str]) -> bool:
    """Whether the query may call one of the routines (by name; a false yes costs little)."""
    return any(name in declared.query for name in names)


def _as_view(declared: Declared, live: View) -> View:
    """The declared object as the table changes make a view again, owned and granted as
    the live one (the grants pass adds what the file declares)."""
    if isinstance(declared, views.ManagedView):
        return replace(
            live, definition=declared.query, options=declared.options, comment=declared.comment
        )
    options = tuple(
        render(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v)))
        for k, v in declared.options
    )
    indexes = tuple(
        create_index(declared.name, i, i.name, concurrently=False).sql for i in declared.indexes
    )
    return replace(
        live,
        definition=declared.query,
        options=options,
        comment=declared.comment,
        indexes=indexes,
        populated=declared.with_data,
    )


def _reads_first(changes: list[ch.Change], reads: dict[str, set[str]]) -> list[ch.Change]:
    """Each run of consecutive CreateViews ordered so that a view comes after those of the
    run it reads (`reads`: the declared ones'; the others read what they read before, and
    the run has them in that order already), otherwise as it was."""
    result: list[ch.Change] = []
    run: list[cc.CreateView] = []
    for change in [*changes, None]:
        if isinstance(change, cc.CreateView):
            run.append(change)
            continue
        result += _ordered(run, reads)
        run = []
        if change is not None:
            result.append(change)
    return result


def _ordered(run: list[cc.CreateView], reads: dict[str, set[str]]) -> list[cc.CreateView]:
    by_name = {str(c.view.name): c for c in run}
    done: dict[str, cc.CreateView] = {}

    def visit(change: cc.CreateView, path: frozenset[str]) -> None:
        key = str(change.view.name)
        if key in done or key in path:
            return
        for read in sorted(reads.get(key, set())):
            if read in by_name and read != key:
                visit(by_name[read], path | {key})
        done[key] = change

    for change in run:
        visit(change, frozenset())
    return list(done.values())
