"""Online type changes by copy and swap: the table copied into a new one of the new types,
kept in sync by a trigger, swapped in; resumable, abandoned cleanly, and falling back to
shadow columns where the table has what the copy does not carry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

import mmschema.apply
import mmschema.tablecopy
from tests.clirunner import run_against
from tests.conftest import query, run_sql
from tests.outside import Outcome, Shell

ROWS = 20_000
BEFORE = f"""
CREATE TABLE fills (id serial PRIMARY KEY, price numeric(18, 8) NOT NULL, size numeric,
                    note text DEFAULT 'n', CONSTRAINT fills_size_check CHECK (size >= 0));
CREATE INDEX fills_price ON fills (price);
CREATE INDEX fills_note ON fills (note) WHERE note IS NOT NULL;
COMMENT ON COLUMN fills.note IS 'free text';
CREATE TABLE legs (id serial PRIMARY KEY, fill_id integer NOT NULL REFERENCES fills (id),
                   qty integer);
INSERT INTO fills (price, size) SELECT 100 + g * 0.25, g % 7 FROM generate_series(1, {ROWS}) g;
INSERT INTO legs (fill_id, qty) SELECT 1 + g % {ROWS}, g FROM generate_series(1, 2000) g;
ANALYZE fills; ANALYZE legs;
"""
OLD = """version: 1
settings: {online_type_change_rows: 1000}
tables:
  fills:
    columns:
      id: {type: serial, nullable: false}
      price: {type: "numeric(18,8)", nullable: false}
      size: {type: numeric}
      note: {type: text, default: "'n'", comment: free text}
    primary_key: [id]
    checks:
      fills_size_check: "size >= 0"
    indexes:
      fills_price: {columns: [price]}
      fills_note: {columns: [note], where: "note IS NOT NULL"}
  legs:
    columns:
      id: {type: serial, nullable: false}
      fill_id: {type: integer, nullable: false}
      qty: {type: integer}
    primary_key: [id]
    foreign_keys:
      legs_fill_id_fkey: {columns: [fill_id], references: {table: fills, columns: [id]}}
"""
NEW = (
    OLD.replace(
        "id: {type: serial, nullable: false}\n      price",
        "id: {type: bigserial, nullable: false}\n      price",
    )
    .replace(
        'price: {type: "numeric(18,8)", nullable: false}',
        "price: {type: double precision, nullable: false}",
    )
    .replace("fill_id: {type: integer", "fill_id: {type: bigint")
)
SUMS = "SELECT count(*), sum(price)::float8, sum(id), sum(size) FROM fills"


def leftovers(db: str) -> list[tuple[Any, ...]]:
    return query(
        db,
        "SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgname LIKE '\\_mms%'"
        " UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proname LIKE '\\_mms%'"
        " UNION ALL SELECT 'relation ' || relname FROM pg_class WHERE relname LIKE '\\_mms%'",
    )


def swapped_under_writes(
    shell: Shell, common: tuple[str, ...], db: str
) -> tuple[Outcome, Outcome, Writer]:
    """Plan (a copy and swap) and apply it while a writer works on `db`: the plan's and the
    apply's outcomes, and the writer."""
    planned = shell.run("plan", *common)
    assert planned.code == 0, planned.output
    assert "retype_copy_swap public.fills" in planned.stdout, planned.stdout
    with Writer(db) as writer:
        applied = shell.run("apply", "--yes", *common)
    assert not writer.errors, writer.errors
    assert applied.code == 0, applied.output
    return planned, applied, writer


def test_copy_and_swap_converges(db: str, scratch_dsn: str, shell: Shell) -> None:
    run_sql(db, BEFORE)
    total = query(db, SUMS)
    shell.write("schema.yaml", NEW)
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *common)
    assert planned.code == 0, planned.output
    for step in (
        "retype_copy_expand public.fills",
        "retype_copy_rows public.fills",
        "create_index public._mms_copy_fills._mms_new_fills_price",
        "retype_copy_swap public.fills",
        "LOCK TABLE",
    ):
        assert step in planned.stdout, planned.stdout
    applied = shell.run("apply", "--yes", *common)
    assert applied.code == 0, applied.output
    assert leftovers(db) == []
    assert query(db, SUMS) == total, applied.output
    assert query(
        db,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'fills'::regclass AND attname IN ('id', 'price')"
        " ORDER BY attnum",
    ) == [("bigint",), ("double precision",)]
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output
    run_sql(db, "INSERT INTO fills (price) VALUES (1.5)")  # the serial default goes on
    assert query(db, "SELECT max(id) FROM fills") == [(ROWS + 1,)]


class Writer:
    """A small application: inserts, updates and deletes fills while an apply runs."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.inserted = 0
        self.deleted = 0
        self.size_change = 0  # what the writes did to sum(size)
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        deadline = time.monotonic() + 90
        try:
            with psycopg.connect(self.db, autocommit=True) as conn:
                i = 0
                while not self.stop.is_set() and time.monotonic() < deadline:
                    i += 1
                    conn.execute("INSERT INTO fills (price, size) VALUES (7.25, 1)")
                    self.inserted += 1
                    self.size_change += 1
                    updated = conn.execute(
                        "UPDATE fills SET size = size + 1 WHERE id = %s", (1 + i % ROWS,)
                    )
                    self.size_change += updated.rowcount
                    gone = conn.execute(
                        "DELETE FROM fills WHERE id = %s AND NOT EXISTS"
                        " (SELECT FROM legs WHERE fill_id = %s) RETURNING size",
                        (ROWS - i % ROWS, ROWS - i % ROWS),
                    ).fetchall()
                    self.deleted += len(gone)
                    self.size_change -= int(sum(r[0] for r in gone))
                    time.sleep(0.002)
        except BaseException as error:
            self.errors.append(error)

    def __enter__(self) -> Writer:
        self.thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=100)


def test_writers_during_the_copy_lose_nothing(db: str, scratch_dsn: str, shell: Shell) -> None:
    run_sql(db, BEFORE)
    shell.write("schema.yaml", NEW)
    common = ("-d", db, "--dev-database", scratch_dsn)
    before = query(db, "SELECT sum(size) FROM fills")[0][0]
    with Writer(db) as writer:
        applied = shell.run("apply", "--yes", *common)
    assert not writer.errors, writer.errors
    assert applied.code == 0, applied.output
    assert writer.inserted > 5
    expected = ROWS + writer.inserted - writer.deleted
    assert query(db, "SELECT count(*) FROM fills") == [(expected,)]
    # every insert, update and delete reached the new table
    assert query(db, "SELECT sum(size) FROM fills") == [(before + writer.size_change,)]
    assert leftovers(db) == []
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


def interrupt_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    real: Callable[..., Any] = mmschema.tablecopy.run_copy  # what apply calls

    def interrupted(*args: Any) -> Any:
        report = args[-1]

        def stop(done: int, total: int | None) -> None:
            report(done, total)
            if done >= 3000:
                raise KeyboardInterrupt

        return real(*args[:-1], stop)

    monkeypatch.setattr(mmschema.apply, "run_copy", interrupted)


def interrupted_apply(
    db: str, scratch_dsn: str, shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[Any, ...]]:
    """The table made, the new file applied and stopped by Ctrl-C 3,000 rows into the copy
    (in-process: the interruption is injected); the table's sums before."""
    run_sql(db, BEFORE)
    total = query(db, SUMS)
    shell.write("schema.yaml", NEW)
    interrupt_copy(monkeypatch)
    first = run_against(["apply", "--yes"], db, scratch_dsn, shell.project)
    assert first.code == 130, first.stdout + first.stderr
    monkeypatch.undo()
    return total


def test_interrupted_copy_resumes_and_going_back_removes_it(
    db: str, scratch_dsn: str, shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = interrupted_apply(db, scratch_dsn, shell, monkeypatch)
    assert "relation _mms_copy_fills" in [r[0] for r in leftovers(db)]
    common = ("-d", db, "--dev-database", scratch_dsn)
    shown = shell.run("plan", *common)
    assert "copy from an earlier apply, its trigger in place, rows copied through key" in (
        shown.stdout
    ), shown.stdout
    assert "retype_copy_expand" not in shown.stdout
    # going back to the old file before the swap drops the copy, its trigger and function
    shell.write("schema.yaml", OLD)
    back_plan = shell.run("plan", *common)
    assert "retype_copy_abandon public.fills" in back_plan.stdout, back_plan.stdout
    # a resumed copy (the new file again, after another interrupted start) converges
    shell.write("schema.yaml", NEW)
    before = query(db, "SELECT sum(size) FROM fills")[0][0]
    with Writer(db) as writer:
        resumed = shell.run("apply", "--yes", *common)
    assert not writer.errors, writer.errors
    assert resumed.code == 0, resumed.output
    assert "retype_copy_expand" not in resumed.stdout
    assert query(db, "SELECT count(*) FROM fills") == [(ROWS + writer.inserted - writer.deleted,)]
    assert query(db, "SELECT sum(size) FROM fills") == [(before + writer.size_change,)]
    assert leftovers(db) == []
    assert total[0][0] == ROWS
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


def test_going_back_before_the_swap_removes_the_copy(
    db: str, scratch_dsn: str, shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = interrupted_apply(db, scratch_dsn, shell, monkeypatch)
    shell.write("schema.yaml", OLD)
    common = ("-d", db, "--dev-database", scratch_dsn)
    back = shell.run("apply", "--yes", *common)
    assert back.code == 0, back.output
    assert leftovers(db) == []
    assert query(db, SUMS) == total
    run_sql(db, "INSERT INTO fills (price) VALUES (2)")  # no trigger left behind
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


def test_a_function_reading_the_table_falls_back_to_shadow_columns(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        BEFORE
        + "CREATE FUNCTION fills_size() RETURNS numeric LANGUAGE sql"
        " BEGIN ATOMIC SELECT sum(size) FROM fills; END;",
    )
    total = query(db, SUMS)
    shell.write("schema.yaml", NEW)
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned = shell.run("plan", *common)
    assert planned.code == 0, planned.output
    assert "retype_online_expand public.fills" in planned.stdout, planned.stdout
    assert "not a copy into a new table: functions read it" in planned.stdout
    assert "retype_copy" not in planned.stdout
    # the markdown plan says it too, under the step's object
    markdown = shell.run("plan", "--format", "markdown", *common)
    assert markdown.code == 0, markdown.output
    assert (
        "`public.fills.price`<br>**method**: shadow columns, not a copy into a new table:"
        " functions read it |"
    ) in markdown.stdout, markdown.stdout
    applied = shell.run("apply", "--yes", *common)
    assert applied.code == 0, applied.output
    assert query(db, SUMS) == total


RO, RW, OWNER = "mms_copy_ro", "mms_copy_rw", "mms_copy_owner"
ROLES = "".join(
    f"DO $$BEGIN CREATE ROLE {r}; EXCEPTION WHEN duplicate_object THEN NULL; END$$;\n"
    for r in (RO, RW, OWNER)
)
# the table's owner, grants (one with grant option, column grants, one the owner lost),
# its comment; and default privileges the role applying gives every new table (the copy)
PRIVILEGED = ROLES + BEFORE + (
    f"ALTER TABLE fills OWNER TO {OWNER};"
    f" GRANT SELECT ON fills TO {RO} WITH GRANT OPTION;"
    f" GRANT UPDATE (note), SELECT (id, note) ON fills TO {RW};"
    f" GRANT INSERT ON fills TO {RW};"
    f" REVOKE TRUNCATE ON fills FROM {OWNER};"
    " COMMENT ON TABLE fills IS 'fills of orders';"
    f" ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT DELETE ON TABLES TO {RW};"
    f" ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {RO};"
)
COMMENTED = "  fills:\n    comment: fills of orders\n"
PRIVILEGES = """
SELECT pg_get_userbyid(c.relowner)::text, obj_description(c.oid, 'pg_class'),
       ARRAY(SELECT ARRAY[pg_get_userbyid(a.grantor)::text,
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                               ELSE pg_get_userbyid(a.grantee)::text END,
                          a.privilege_type, a.is_grantable::text]
             FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
             ORDER BY 1),
       ARRAY(SELECT ARRAY[att.attname::text, pg_get_userbyid(a.grantor)::text,
                          pg_get_userbyid(a.grantee)::text, a.privilege_type,
                          a.is_grantable::text]
             FROM pg_attribute att CROSS JOIN LATERAL aclexplode(att.attacl) AS a
             WHERE att.attrelid = c.oid ORDER BY 1)
FROM pg_class c WHERE c.oid = 'fills'::regclass
"""


def test_owner_grants_and_comment_go_with_the_copy(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(db, PRIVILEGED)
    had = query(db, PRIVILEGES)
    total = query(db, SUMS)
    shell.write("schema.yaml", NEW.replace("  fills:\n", COMMENTED))
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned, applied, writer = swapped_under_writes(shell, common, db)
    assert f'OWNER TO "{OWNER}"' in planned.stdout
    assert "retype_copy_swap public.fills" in applied.output
    # exactly the old table's owner, privileges (grantors too) and comment
    assert query(db, PRIVILEGES) == had
    assert query(db, "SELECT count(*) FROM fills")[0][0] == (
        total[0][0] + writer.inserted - writer.deleted
    )
    assert leftovers(db) == []
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


# triggers (row and statement level, one reading a retyped column, a disabled one with a
# comment), row level security (forced) and policies: made again on the new table
GUARDED = ROLES + BEFORE + (
    "CREATE TABLE fill_audit (n bigint NOT NULL);"
    " INSERT INTO fill_audit VALUES (0);"
    " CREATE FUNCTION fills_note() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN NEW.note := coalesce(NEW.note, 'n') || '+'; RETURN NEW; END$$;"
    " CREATE FUNCTION fills_count() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN UPDATE fill_audit SET n = n + 1; RETURN NULL; END$$;"
    " CREATE TRIGGER fills_note BEFORE INSERT ON fills FOR EACH ROW"
    " EXECUTE FUNCTION fills_note();"
    " CREATE TRIGGER fills_count AFTER INSERT ON fills FOR EACH STATEMENT"
    " EXECUTE FUNCTION fills_count();"
    " CREATE TRIGGER fills_price AFTER UPDATE OF price ON fills FOR EACH ROW"
    " WHEN (NEW.price > 1000) EXECUTE FUNCTION fills_count();"
    " ALTER TABLE fills DISABLE TRIGGER fills_price;"
    " COMMENT ON TRIGGER fills_price ON fills IS 'big prices';"
    " ALTER TABLE fills ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;"
    f" CREATE POLICY fills_read ON fills FOR SELECT TO {RO} USING (price > 0);"
    f" CREATE POLICY fills_small ON fills AS RESTRICTIVE TO {RO}, {RW}"
    " USING (size < 100) WITH CHECK (size < 50);"
)
FORCED = "  fills:\n    row_level_security: forced\n"
# (expressions reading price are printed with the casts of its new type)
GUARDS = """
SELECT c.relrowsecurity, c.relforcerowsecurity,
       ARRAY(SELECT ARRAY[t.tgname::text, t.tgenabled::text,
                          regexp_replace(pg_get_triggerdef(t.oid), 'WHEN .* EXECUTE', 'WHEN'),
                          coalesce(obj_description(t.oid, 'pg_trigger'), '')]
             FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal ORDER BY 1),
       ARRAY(SELECT ARRAY[policyname::text, permissive, cmd, roles::text,
                          regexp_replace(coalesce(qual, ''), 'price.*', 'price'),
                          coalesce(with_check, '')]
             FROM pg_policies WHERE tablename = 'fills' ORDER BY 1)
FROM pg_class c WHERE c.oid = 'fills'::regclass
"""


def test_triggers_policies_and_row_security_go_with_the_copy(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(db, GUARDED)
    had = query(db, GUARDS)
    shell.write("schema.yaml", NEW.replace("  fills:\n", FORCED))
    common = ("-d", db, "--dev-database", scratch_dsn)
    planned, _applied, writer = swapped_under_writes(shell, common, db)
    assert "retype_online_expand public.fills" not in planned.stdout
    assert query(db, GUARDS) == had
    # the triggers fired for every write during the copy, and fire on the new table
    assert query(db, "SELECT n FROM fill_audit") == [(writer.inserted,)]
    run_sql(db, "INSERT INTO fills (price, size) VALUES (3, 1)")
    assert query(db, "SELECT n FROM fill_audit") == [(writer.inserted + 1,)]
    assert query(db, "SELECT note FROM fills ORDER BY id DESC LIMIT 1") == [("n+",)]
    assert leftovers(db) == []
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


def test_truncate_during_the_copy_reaches_the_new_table(
    db: str, scratch_dsn: str, shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupted_apply(db, scratch_dsn, shell, monkeypatch)  # 3,000 rows copied
    # the application empties the table and starts again, the ids from 1 again (rows the
    # batches copied had them)
    run_sql(db, "TRUNCATE fills, legs RESTART IDENTITY")
    run_sql(
        db,
        "INSERT INTO fills (price, size) SELECT g, g FROM generate_series(1, 2000) g;"
        " ANALYZE fills",  # still big enough to change online
    )
    total = query(db, SUMS)
    common = ("-d", db, "--dev-database", scratch_dsn)
    resumed = shell.run("apply", "--yes", *common)
    assert resumed.code == 0, resumed.output
    assert query(db, SUMS) == total  # neither the rows copied before nor a row lost
    assert leftovers(db) == []
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


def test_views_over_the_table_are_made_again_by_the_swap(
    db: str, scratch_dsn: str, shell: Shell
) -> None:
    run_sql(
        db,
        ROLES
        + BEFORE
        + "CREATE VIEW cheap AS SELECT id, price FROM fills WHERE price < 200;"
        " CREATE VIEW how_many AS SELECT count(*) AS n FROM fills;"
        " CREATE VIEW cheapest AS SELECT min(price) AS price FROM cheap;"
        f" ALTER VIEW cheapest OWNER TO {OWNER};"
        f" GRANT SELECT ON cheap TO {RO}, {OWNER};"
        " COMMENT ON VIEW how_many IS 'rows';",
    )
    shell.write("schema.yaml", NEW)
    common = ("-d", db, "--dev-database", scratch_dsn)
    _planned, _applied, writer = swapped_under_writes(shell, common, db)
    assert query(
        db,
        "SELECT (SELECT n FROM how_many), (SELECT count(*) FROM fills),"
        " (SELECT price FROM cheapest), pg_typeof((SELECT price FROM cheapest))::text,"
        " obj_description('how_many'::regclass, 'pg_class'),"
        f" has_table_privilege('{RO}', 'cheap', 'SELECT'),"
        " (SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'cheapest')",
    ) == [
        (ROWS + writer.inserted - writer.deleted,) * 2
        + (7.25, "double precision", "rows", True, OWNER)
    ]
    assert leftovers(db) == []
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output


@pytest.mark.parametrize("method", ["copy", "shadow"])
def test_a_view_the_file_changes_is_made_by_the_swap_as_declared(
    db: str, scratch_dsn: str, shell: Shell, method: str
) -> None:
    """A declared view over a retyped column whose query the file changes too: the swap
    (of either method) makes it as the file says, not as it was."""
    run_sql(db, BEFORE + "CREATE VIEW cheap AS SELECT id, size FROM fills WHERE size < 3;")
    settings = f"online_type_change_rows: 1000, online_type_change_method: {method}"
    view = "views:\n  cheap:\n    query: SELECT id, size FROM fills WHERE size < 5\n"
    shell.write("schema.yaml", NEW.replace("online_type_change_rows: 1000", settings) + view)
    common = ("-d", db, "--dev-database", scratch_dsn)
    applied = shell.run("apply", "--yes", *common)
    assert applied.code == 0, applied.output
    assert f"retype_{'copy' if method == 'copy' else 'online'}_swap public.fills" in (
        applied.output
    )
    assert query(db, "SELECT count(*) FROM cheap") == [(14286,)]  # g % 7 < 5
    again = shell.run("plan", "--detailed-exitcode", *common)
    assert again.code == 0, again.output
