"""Triggers: declared under `triggers:` as `[schema.]table.trigger`, compared as
pg_get_triggerdef prints them, changed with CREATE OR REPLACE TRIGGER."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from pglast import parse_sql
from pglast.stream import RawStream
from pglast.stream import maybe_double_quote_name as quoted
from psycopg import sql
from psycopg.rows import class_row

from mmschema import changes as ch
from mmschema.catalogsql import catalog_read, kind_sql
from mmschema.ddl.base import Statement, make_statement, qualified
from mmschema.ddl.base import statements as ddl_statements
from mmschema.desired.build import Context, text_of
from mmschema.desired.checks import BadName, name_problem, shown, shown_part, split_name
from mmschema.desired.declared import Source
from mmschema.hazards import Hazard, hazards
from mmschema.kinds import comments
from mmschema.kinds.base import Arrangement, KindObject, Unmanaged
from mmschema.kinds.rounds import made_in_rounds
from mmschema.kinds.tables.changes import renamed_tables
from mmschema.locks import Form
from mmschema.model import Catalog, QualifiedName
from mmschema.online_names import TRIGGER_PREFIX
from mmschema.scratch_chunks import ScratchRun

FILE_KEY = "triggers"
TIMINGS = {"before": "BEFORE", "after": "AFTER", "instead_of": "INSTEAD OF"}
EVENTS = ("insert", "update", "delete", "truncate")
# pg_trigger.tgenabled and the ALTER TABLE action that sets it.
ENABLED: dict[str, bool | str] = {"O": True, "D": False, "R": "replica", "A": "always"}
ENABLE_ACTIONS: dict[bool | str, str] = {
    True: "ENABLE",
    False: "DISABLE",
    "replica": "ENABLE REPLICA",
    "always": "ENABLE ALWAYS",
}

# pg_trigger.tgtype bits (PostgreSQL's trigger.h)
_BEFORE, _INSERT, _DELETE, _UPDATE, _TRUNCATE, _INSTEAD = 2, 4, 8, 16, 32, 64


@dataclass(frozen=True)
class ManagedTrigger:
    """A trigger the file declares (or its live counterpart): equal when printed the same."""

    table: QualifiedName
    name: str
    body: str  # pg_get_triggerdef() without "CREATE [CONSTRAINT] TRIGGER name"; declared: ""
    constraint: bool = False
    enabled: bool | str = True
    definition: str = ""  # pg_get_triggerdef() once normalized; the file's CREATE before
    renamed_from: str | None = None
    state: str = "present"
    source: Source | None = None
    comment: comments.Declared = comments.NOT_GIVEN  # live: given, as read

    @property
    def key(self) -> str:
        return f"{shown(self.table)}.{shown_part(self.name)}"

    @property
    def target(self) -> sql.Composable:
        """The trigger as COMMENT ON names it."""
        return sql.SQL("{} ON {}").format(sql.Identifier(self.name), qualified(self.table))

    def same_trigger(self, other: ManagedTrigger) -> bool:
        return (self.body, self.constraint) == (other.body, other.constraint)


@dataclass(frozen=True)
class BusyTable:
    """A live table other sessions hold locks on while the plan is made."""

    name: QualifiedName
    sessions: int
    state: str = "present"

    @property
    def key(self) -> str:
        return f"busy {self.name}"


@dataclass(frozen=True)
class CreateTrigger(ch.KindChange):
    trigger: ManagedTrigger
    busy: int = 0  # other sessions holding locks on the table now
    phase = ch.Phase.VIEWS  # after the tables, columns and views it is on; before drops

    @property
    def kind_name(self) -> str:
        return "create_trigger"

    @property
    def subject(self) -> str:
        return self.trigger.key


@dataclass(frozen=True)
class ReplaceTrigger(ch.KindChange):
    """CREATE OR REPLACE TRIGGER; a constraint trigger (either side) is dropped and created
    in one transaction, as CREATE OR REPLACE cannot make one."""

    old: ManagedTrigger
    new: ManagedTrigger
    busy: int = 0
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "replace_trigger"

    @property
    def subject(self) -> str:
        return self.new.key


@dataclass(frozen=True)
class AlterTrigger(ch.KindChange):
    """ALTER TRIGGER ... RENAME TO and ALTER TABLE ... ENABLE/DISABLE TRIGGER."""

    trigger: ManagedTrigger
    renamed_from: str | None = None
    set_enabled: bool = False
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "rename_trigger" if self.renamed_from is not None else "enable_trigger"

    @property
    def subject(self) -> str:
        return self.trigger.key


@dataclass(frozen=True)
class DropTrigger(ch.KindChange):
    trigger: ManagedTrigger
    phase = ch.Phase.VIEWS

    @property
    def kind_name(self) -> str:
        return "drop_trigger"

    @property
    def subject(self) -> str:
        return self.trigger.key


@dataclass(frozen=True)
class PruneTrigger(DropTrigger):
    """DROP TRIGGER of one on a managed table that the file does not declare (--prune)."""

    phase = ch.Phase.DROP_UNMANAGED


class TriggerKind:
    """The triggers kind, as the pipeline sees it."""

    file_key = FILE_KEY

    def owns(self, item: object) -> bool:
        return isinstance(item, ManagedTrigger | BusyTable)

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject:
        return build_trigger(context, key, spec)

    def arranged(self, arrangement: Arrangement) -> Arrangement:
        """Triggers on a renamed table follow it: compared, not made again."""
        renamed = renamed_tables(arrangement.tables)
        if not renamed:
            return arrangement
        objects, unmanaged = triggers_following_renamed_tables(
            renamed, arrangement.objects, arrangement.unmanaged
        )
        return Arrangement(arrangement.tables, objects, unmanaged)

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]:
        mine = list(_triggers(declared))
        if not mine:
            return ()
        names = [(t.table, t.name) for t in mine]
        names += [(t.table, t.renamed_from) for t in mine if t.renamed_from]
        return (*read_triggers(conn, names, []), *read_busy(conn, mine))

    def normalize(self, run: ScratchRun, declared: Sequence[KindObject]) -> tuple[KindObject, ...]:
        return tuple(made_in_rounds(run, [(self, declared)]))

    def scratch_statements(self, item: KindObject) -> list[str]:
        return scratch_statements(item) if isinstance(item, ManagedTrigger) else []

    def described(self, item: KindObject) -> str:
        return f"trigger {item.key}"

    def read_back(self, run: ScratchRun, declared: Sequence[KindObject]) -> list[KindObject]:
        return list(read_back(run, list(_triggers(declared))))

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[ch.Change]:
        busy = {b.name: b.sessions for b in live if isinstance(b, BusyTable)}
        return diff_triggers(list(_triggers(live)), list(_triggers(desired)), busy)

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]:
        found = read_triggers(conn, [], list(schemas))
        if only:
            wanted = set(only)
            found = [t for t in found if {t.table.name, str(t.table), t.table.schema} & wanted]
        return {trigger_key(t): trigger_document(t) for t in found}

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]:
        return {trigger_key(t): trigger_document(t) for t in _triggers(live)}

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """The triggers on the managed tables; not the old names of renames, nor the ones
        an online type change in flight keeps its columns in sync with."""
        if not live.tables:
            return []
        schemas = sorted({name.schema for name in live.tables})
        renamed = {
            replace(t, name=t.renamed_from).key for t in _triggers(declared) if t.renamed_from
        }
        return [
            Unmanaged(t.key, f"trigger {t.name} on {t.table}", PruneTrigger(t))
            for t in read_triggers(conn, [], schemas)
            if t.table in live.tables
            and t.key not in renamed
            and not t.name.startswith(TRIGGER_PREFIX)
        ]


KIND = TriggerKind()


def _triggers(objects: Iterable[object]) -> Iterable[ManagedTrigger]:
    return (o for o in objects if isinstance(o, ManagedTrigger))


# --- the file -------------------------------------------------------------------------


def build_trigger(context: Context, key: str, spec: Mapping[str, object]) -> ManagedTrigger:
    path = (FILE_KEY, key)
    table, name = _split_key(context, path, key)
    what = f"trigger {key}"
    state = text_of(spec.get("state")) or "present"
    renamed_from = text_of(spec.get("renamed_from"))
    if renamed_from is not None:
        context.check_name((*path, "renamed_from"), "renamed_from", renamed_from)
    enabled = spec.get("enabled", True)
    trigger = ManagedTrigger(
        table=table,
        name=name,
        body="",
        constraint=spec.get("constraint") is True,
        enabled=enabled if isinstance(enabled, bool | str) else True,
        renamed_from=renamed_from,
        state=state,
        source=context.key(path),
        comment=comments.declared(spec),
    )
    if state != "present":
        return trigger
    when = context.expression((*path, "when"), spec.get("when"), f"when of {what}")
    columns = [c for c in _list(spec.get("columns")) if isinstance(c, str)]
    events = [e for e in _list(spec.get("events")) if isinstance(e, str)]
    if columns and "update" not in events:
        context.error((*path, "columns"), f"{what}: columns need the update event")
    function = text_of(spec.get("function")) or ""
    try:
        function_name = split_name(function)
    except BadName as problem:
        context.error((*path, "function"), f"{what}: function '{function}' {problem}")
        function_name = [function]
    if len(function_name) > 2:
        context.error((*path, "function"), f"{what}: function '{function}' is not [schema.]name")
    arguments = [a if isinstance(a, str) else str(a) for a in _list(spec.get("arguments"))]
    create = create_trigger_sql(
        trigger,
        timing=TIMINGS.get(text_of(spec.get("timing")) or "", "AFTER"),
        events=events,
        columns=columns,
        row=spec.get("for_each") == "row",
        when=when,
        function=function_name,
        arguments=arguments,
        deferrable=spec.get("deferrable"),
    )
    return replace(trigger, definition=create.as_string(None))


def _split_key(context: Context, path: tuple[str, ...], key: str) -> tuple[QualifiedName, str]:
    try:
        parts = split_name(key)
    except BadName as problem:
        context.key_error(path, f"trigger '{key}' {problem}")
        return QualifiedName("public", key), key
    if len(parts) not in (2, 3):
        context.key_error(path, f"trigger '{key}' is not table.trigger or schema.table.trigger")
        return QualifiedName("public", key), key
    table = QualifiedName(*parts[:-1]) if len(parts) == 3 else QualifiedName("public", parts[0])
    for part in parts:
        problem_text = name_problem(part)
        if problem_text is not None:
            context.key_error(path, f"trigger '{key}': '{part}' {problem_text}")
    return table, parts[-1]


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def create_trigger_sql(
    trigger: ManagedTrigger,
    *,
    timing: str,
    events: list[str],
    columns: list[str],
    row: bool,
    when: str | None,
    function: list[str],
    arguments: list[str],
    deferrable: object,
) -> sql.Composable:
    """CREATE [CONSTRAINT] TRIGGER from the file's parts (WHEN checked as one expression)."""
    happens: list[sql.Composable] = []
    for event in (e for e in EVENTS if e in events):
        if event == "update" and columns:
            of = sql.SQL(", ").join(map(sql.Identifier, columns))
            happens.append(sql.SQL("UPDATE OF {}").format(of))
        else:
            happens.append(sql.SQL(event.upper()))
    parts: list[sql.Composable] = [
        sql.SQL("CREATE CONSTRAINT TRIGGER" if trigger.constraint else "CREATE TRIGGER"),
        sql.Identifier(trigger.name),
        sql.SQL(timing),
        sql.SQL(" OR ").join(happens),
        sql.SQL("ON"),
        qualified(trigger.table),
    ]
    if trigger.constraint and deferrable in (True, "initially_deferred"):
        parts.append(sql.SQL("DEFERRABLE"))
        if deferrable == "initially_deferred":
            parts.append(sql.SQL("INITIALLY DEFERRED"))
    parts.append(sql.SQL("FOR EACH ROW" if row else "FOR EACH STATEMENT"))
    if when:
        parts.append(sql.SQL("WHEN ({}\n)").format(sql.SQL(when)))
    parts.append(
        sql.SQL("EXECUTE FUNCTION {}({})").format(
            sql.Identifier(*function), sql.SQL(", ").join(map(sql.Literal, arguments))
        )
    )
    return sql.SQL(" ").join(parts)


# --- the catalog ----------------------------------------------------------------------


@dataclass
class TriggerRow:
    schema: str
    table_name: str
    name: str
    quoted_name: str
    definition: str
    enabled: str
    comment: str | None


@dataclass
class BusyRow:
    schema: str
    name: str
    sessions: int


def read_triggers(
    conn: psycopg.Connection[Any],
    names: Sequence[tuple[QualifiedName, str]],
    schemas: Sequence[str],
) -> list[ManagedTrigger]:
    """The triggers named and all those on relations of `schemas` (read only on the target)."""
    params = {
        "schemas": [t.schema for t, _ in names],
        "tables": [t.name for t, _ in names],
        "names": [n for _, n in names],
        "schemas_all": list(schemas),
    }
    with catalog_read(conn), conn.cursor(row_factory=class_row(TriggerRow)) as cur:
        cur.execute(kind_sql("triggers"), params)
        rows = cur.fetchall()
    return [_from_row(row) for row in rows]


def _from_row(row: TriggerRow) -> ManagedTrigger:
    constraint = row.definition.startswith("CREATE CONSTRAINT TRIGGER ")
    prefix = "CREATE CONSTRAINT TRIGGER " if constraint else "CREATE TRIGGER "
    return ManagedTrigger(
        table=QualifiedName(row.schema, row.table_name),
        name=row.name,
        body=row.definition.removeprefix(f"{prefix}{row.quoted_name} "),
        constraint=constraint,
        enabled=ENABLED.get(row.enabled, True),
        definition=row.definition,
        comment=comments.Declared(row.comment, True),
    )


def read_busy(conn: psycopg.Connection[Any], declared: Sequence[ManagedTrigger]) -> list[BusyTable]:
    tables = sorted({t.table for t in declared if t.state == "present"})
    params = {"schemas": [t.schema for t in tables], "names": [t.name for t in tables]}
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.transaction(), conn.cursor(row_factory=class_row(BusyRow)) as cur:
        if idle:
            cur.execute("SET TRANSACTION READ ONLY")
        cur.execute(kind_sql("busy_tables"), params)
        rows = cur.fetchall()
    return [BusyTable(QualifiedName(r.schema, r.name), r.sessions) for r in rows]


# --- the scratch server ---------------------------------------------------------------


def scratch_statements(trigger: ManagedTrigger) -> list[str]:
    """What makes the declared trigger on the scratch server (in rounds: kinds/rounds.py,
    after the tables, views and functions it is on and calls)."""
    made = [trigger.definition]
    if trigger.enabled is not True:
        made.append(_enable(trigger).sql)
    return made


def read_back(run: ScratchRun, declared: list[ManagedTrigger]) -> list[ManagedTrigger]:
    """The declared triggers as the scratch server prints them."""
    found = {t.key: t for t in read_triggers(run.conn, [(t.table, t.name) for t in declared], [])}
    return [
        replace(found[t.key], source=t.source, renamed_from=t.renamed_from, comment=t.comment)
        for t in declared
        if t.key in found
    ]


# --- the diff -------------------------------------------------------------------------


def diff_triggers(
    live: list[ManagedTrigger], desired: list[ManagedTrigger], busy: dict[QualifiedName, int]
) -> list[ch.Change]:
    """Drops, renames, creations and replacements of the triggers the file names; the
    others are left alone."""
    have = {t.key: t for t in live}
    changes: list[ch.Change] = []
    for trigger in desired:
        old = have.get(trigger.key)
        if trigger.state == "absent" and old is not None:
            changes.append(DropTrigger(old))
    for trigger in desired:
        if trigger.state != "present":
            continue
        old = have.get(trigger.key)
        sessions = busy.get(trigger.table, 0)
        if old is None and trigger.renamed_from is not None:
            renamed = have.get(replace(trigger, name=trigger.renamed_from).key)
            if renamed is not None:
                changes.append(AlterTrigger(trigger, renamed_from=trigger.renamed_from))
                old = replace(renamed, name=trigger.name)
        # The comment it has once made (none when made anew, a constraint trigger's
        # rebuild included) against the one the file wants (or the live one it had).
        had = old.comment.text if old is not None else None
        if old is None:
            changes.append(CreateTrigger(trigger, sessions))
            had = None
        elif not old.same_trigger(trigger):
            changes.append(ReplaceTrigger(old, trigger, sessions))
            had = None if old.constraint or trigger.constraint else had
        elif old.enabled != trigger.enabled:
            changes.append(AlterTrigger(trigger, set_enabled=True))
        wanted = trigger.comment.wanted(old.comment.text if old is not None else None)
        changes += comments.comment_change(
            "trigger", trigger.key, trigger.target, had, wanted, ch.Phase.VIEWS
        )
    return changes


def triggers_following_renamed_tables(
    renamed: Mapping[QualifiedName, QualifiedName],
    objects: list[ch.Change],
    unmanaged: Sequence[Unmanaged],
) -> tuple[list[ch.Change], tuple[Unmanaged, ...]]:
    """A declared trigger on a table the plan renames (`renamed`: new name -> old) is the
    live one under the table's old name (read as unmanaged there): it moves with the table,
    so it is compared rather than created again ("already exists"), and is no longer
    unmanaged."""
    new_names = {old: new for new, old in renamed.items()}
    under_new_names: dict[str, tuple[str, ManagedTrigger]] = {}
    for item in unmanaged:
        if isinstance(item.drop, PruneTrigger) and item.drop.trigger.table in new_names:
            moved = _moved(item.drop.trigger, new_names[item.drop.trigger.table])
            under_new_names[moved.key] = (item.key, moved)
    if not under_new_names:
        return objects, tuple(unmanaged)
    taken: set[str] = set()
    followed: dict[str, list[ch.Change]] = {}
    for change in objects:
        if not isinstance(change, CreateTrigger):
            continue
        wanted = change.trigger
        names = [wanted.name] if wanted.renamed_from is None else [wanted.name, wanted.renamed_from]
        for name in names:
            found = under_new_names.get(replace(wanted, name=name).key)
            if found is not None:
                taken.add(found[0])
                busy = {wanted.table: change.busy}
                followed[wanted.key] = diff_triggers([found[1]], [wanted], busy)
                break
    result: list[ch.Change] = []
    for change in objects:
        if isinstance(change, CreateTrigger) and change.trigger.key in followed:
            result += followed[change.trigger.key]
        elif not (
            isinstance(change, comments.SetObjectComment)
            and change.what == "trigger"
            and change.object_key in followed
        ):
            result.append(change)  # the comment set after a creation: now the comparison's
    return result, tuple(u for u in unmanaged if u.key not in taken)


def _moved(trigger: ManagedTrigger, table: QualifiedName) -> ManagedTrigger:
    """The live trigger as it will read once its table has its new name."""

    def printed(name: QualifiedName) -> str:
        return f" ON {quoted(name.schema)}.{quoted(name.name)} "

    old, new = printed(trigger.table), printed(table)
    return replace(
        trigger,
        table=table,
        body=trigger.body.replace(old, new, 1),
        definition=trigger.definition.replace(old, new, 1),
    )


# --- SQL ------------------------------------------------------------------------------


def _enable(trigger: ManagedTrigger) -> Statement:
    action = ENABLE_ACTIONS.get(trigger.enabled, "ENABLE")
    text = sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
        qualified(trigger.table), sql.SQL(action), sql.Identifier(trigger.name)
    )
    return make_statement(Form.ENABLE_TRIGGER, text)


def _drop(trigger: ManagedTrigger) -> Statement:
    text = sql.SQL("DROP TRIGGER {} ON {}").format(
        sql.Identifier(trigger.name), qualified(trigger.table)
    )
    return make_statement(Form.DROP_TRIGGER, text)


def _created(trigger: ManagedTrigger, form: Form = Form.CREATE_TRIGGER) -> list[Statement]:
    # The definition is pg_get_triggerdef's, from the scratch server.
    text = trigger.definition
    if form is Form.REPLACE_TRIGGER:
        text = "CREATE OR REPLACE TRIGGER " + text.removeprefix("CREATE TRIGGER ")
    made = [Statement(form, text)]
    if trigger.enabled is not True:
        made.append(_enable(trigger))
    return made


@ddl_statements.register
def _(change: CreateTrigger) -> list[Statement]:
    return _created(change.trigger)


@ddl_statements.register
def _(change: ReplaceTrigger) -> list[Statement]:
    if change.old.constraint or change.new.constraint:
        return [_drop(change.old), *_created(change.new)]
    made = _created(change.new, Form.REPLACE_TRIGGER)
    if change.new.enabled is True and change.old.enabled is not True:
        made.append(_enable(change.new))  # CREATE OR REPLACE keeps the old state
    return made


@ddl_statements.register
def _(change: AlterTrigger) -> list[Statement]:
    trigger = change.trigger
    if change.renamed_from is not None:
        text = sql.SQL("ALTER TRIGGER {} ON {} RENAME TO {}").format(
            sql.Identifier(change.renamed_from),
            qualified(trigger.table),
            sql.Identifier(trigger.name),
        )
        return [make_statement(Form.RENAME_TRIGGER, text)]
    return [_enable(trigger)]


@ddl_statements.register
def _(change: DropTrigger) -> list[Statement]:
    return [_drop(change.trigger)]


@hazards.register
def _(change: CreateTrigger) -> list[Hazard]:
    return _busy_hazard(change.trigger, change.busy)


@hazards.register
def _(change: ReplaceTrigger) -> list[Hazard]:
    return _busy_hazard(change.new, change.busy)


@hazards.register
def _(change: PruneTrigger) -> list[Hazard]:
    trigger = change.trigger
    detail = f"drops trigger {trigger.name} on {trigger.table}, which the file does not declare"
    return [Hazard("destructive", f"{detail} (--prune)")]


def _busy_hazard(trigger: ManagedTrigger, sessions: int) -> list[Hazard]:
    if not sessions:
        return []
    detail = (
        f"trigger {trigger.name} takes a SHARE ROW EXCLUSIVE lock on {trigger.table}, which "
        f"{sessions} other session(s) hold locks on now: it waits for them, and writes to "
        f"{trigger.table} wait behind it"
    )
    return [Hazard("blocking", detail)]


# --- dump -----------------------------------------------------------------------------


def trigger_key(trigger: ManagedTrigger) -> str:
    name = shown_part(trigger.name)
    if trigger.table.schema == "public":
        return f"{shown_part(trigger.table.name)}.{name}"
    return f"{shown(trigger.table)}.{name}"


def trigger_document(trigger: ManagedTrigger) -> dict[str, Any]:
    """The file's fields, read back from pg_get_triggerdef's text (parsed, not executed)."""
    statement: Any = parse_sql(trigger.definition)[0].stmt
    tgtype = int(statement.timing or 0)
    events = int(statement.events or 0)
    timing = "instead_of" if tgtype & _INSTEAD else "before" if tgtype & _BEFORE else "after"
    document: dict[str, Any] = {"timing": timing}
    document["events"] = [
        e
        for e, bit in zip(EVENTS, (_INSERT, _UPDATE, _DELETE, _TRUNCATE), strict=True)
        if events & bit
    ]
    if statement.columns:
        document["columns"] = [c.sval for c in statement.columns]
    if statement.row:
        document["for_each"] = "row"
    if statement.whenClause is not None:
        document["when"] = RawStream()(statement.whenClause)
    document["function"] = ".".join(shown_part(p.sval) for p in statement.funcname)
    if statement.args:
        document["arguments"] = [a.sval for a in statement.args]
    if trigger.constraint:
        document["constraint"] = True
        if statement.initdeferred:
            document["deferrable"] = "initially_deferred"
        elif statement.deferrable:
            document["deferrable"] = True
    if trigger.enabled is not True:
        document["enabled"] = trigger.enabled
    return comments.with_comment(document, trigger.comment.text)


__all__ = ["KIND", "AlterTrigger", "CreateTrigger", "DropTrigger", "ManagedTrigger"]
