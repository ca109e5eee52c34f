"""Loading and validating schema.yaml without a database: values, positions, error messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mmschema.desired.declared import DesiredState, InvalidFile, Source
from mmschema.desired.load import json_schema, load_desired, load_text
from mmschema.model import QualifiedName

SPEC_EXAMPLE = """\
version: 1                      # required; the file format's version
settings:                       # optional; defaults for apply, CLI flags override
  lock_timeout: 3s              # how long one DDL statement may wait for its lock
  statement_timeout: 30min      # for statements other than concurrent index builds
  retries: 5                    # lock-timeout retries per statement, with backoff
  allow: [rewrite]              # hazard kinds apply may run without --allow (never destructive)
extensions: [btree_gin]         # optional; ensured with CREATE EXTENSION IF NOT EXISTS
tables:
  sessions:                     # "name" means public.name; "other_schema.name" for others
    columns:
      id:              {type: text, nullable: false}
      symbol:          {type: text}
      startedat:       {type: bigint}
      settlesession:   {type: boolean, default: false}
      settledcomplete: {type: boolean}
      pairs:           {type: jsonb, nullable: false, default: "'[]'::jsonb",
                        backfill: "jsonb_build_array(symbol)",
                        backfill_where: "symbol IS NOT NULL"}
      pair_count:      {type: integer, nullable: false, default: 0,
                        backfill: "CASE WHEN symbol IS NULL THEN 0 ELSE 1 END"}
    primary_key: [id]
    indexes:
      idx_sessions_pair_count: {columns: [pair_count]}
      idx_sessions_pairs_gin:  {using: gin, columns: [pairs]}
      idx_sessions_settlement_discovery:
        columns: [startedat]
        where: settlesession = true AND (settledcomplete IS NULL OR settledcomplete = false)
  fills:
    columns:
      id:        {type: bigint, identity: by_default}
      sessionid: {type: text, nullable: false}
      orderid:   {type: text}
      symbol:    {type: text}
      timestamp: {type: bigint, nullable: false}
      price:     {type: "numeric(18,8)", nullable: false}
      size:      {type: numeric}
      amount:    {type: numeric}
    primary_key: [id]
    indexes:
      idx_fills_unique_dedup:
        unique: true
        columns: [sessionid, orderid, symbol, timestamp, price, {expr: "COALESCE(size, amount)"}]
assertions:                     # optional; each query must return no rows
  pair_count_matches_pairs: >
    SELECT id FROM sessions
    WHERE pair_count != COALESCE(jsonb_array_length(pairs), 0)
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(text: str) -> DesiredState:
    return load_desired(write("schema.yaml", text))


def errors(text: str, name: str = "schema.yaml") -> list[str]:
    with pytest.raises(InvalidFile) as caught:
        load_desired(write(name, text))
    return caught.value.errors


def table_file(columns: str, rest: str = "") -> str:
    """A file with table t of the given column lines (6 spaces in) and table-level lines."""
    return "version: 1\ntables:\n  t:\n    columns:\n" + columns + rest


# -- the SPEC example ----------------------------------------------------------------------


def test_spec_example_loads() -> None:
    state = load(SPEC_EXAMPLE)
    assert state.text == SPEC_EXAMPLE
    assert state.settings.lock_timeout_ms == 3000
    assert state.settings.statement_timeout_ms == 30 * 60 * 1000
    assert state.settings.retries == 5
    assert state.settings.allow == frozenset({"rewrite"})
    assert state.extensions == ("btree_gin",)
    assert [t.name for t in state.tables] == [
        QualifiedName("public", "sessions"),
        QualifiedName("public", "fills"),
    ]
    sessions, fills = state.tables
    assert sessions.source == Source("schema.yaml", 9, 3)
    columns = {c.name: c for c in sessions.columns}
    assert [c.name for c in sessions.columns][:3] == ["id", "symbol", "startedat"]
    assert columns["id"].nullable is False
    assert columns["id"].source == Source("schema.yaml", 11, 7)
    assert columns["symbol"].nullable is True
    assert columns["settlesession"].default == "false"
    assert columns["pairs"].default == "'[]'::jsonb"
    assert columns["pairs"].backfill == "jsonb_build_array(symbol)"
    assert columns["pairs"].backfill_where == "symbol IS NOT NULL"
    assert columns["pair_count"].default == "0"
    assert sessions.primary_key is not None
    assert sessions.primary_key.columns == ("id",)
    indexes = {i.name: i for i in sessions.indexes}
    assert indexes["idx_sessions_pairs_gin"].using == "gin"
    assert indexes["idx_sessions_pairs_gin"].source == Source("schema.yaml", 24, 7)
    discovery = indexes["idx_sessions_settlement_discovery"]
    assert discovery.where == (
        "settlesession = true AND (settledcomplete IS NULL OR settledcomplete = false)"
    )
    assert discovery.keys[0].column == "startedat"
    dedup = fills.indexes[0]
    assert dedup.unique is True
    assert [k.column for k in dedup.keys[:5]] == [
        "sessionid",
        "orderid",
        "symbol",
        "timestamp",
        "price",
    ]
    assert dedup.keys[5].column is None
    assert dedup.keys[5].expr == "COALESCE(size, amount)"
    identity = fills.columns[0]
    assert (identity.identity, identity.nullable) == ("by_default", False)
    assert fills.columns[5].type == "numeric(18,8)"
    assert state.assertions == {
        "pair_count_matches_pairs": (
            "SELECT id FROM sessions WHERE pair_count != COALESCE(jsonb_array_length(pairs), 0)"
        )
    }


def test_example_in_repository_loads() -> None:
    example = Path(__file__).parent.parent / "examples" / "market-maker" / "schema.yaml"
    if not example.exists():
        pytest.skip("no example file")
    state = load_desired(example)
    assert {t.name.name for t in state.tables} == {"sessions", "orders", "fills"}


# -- values --------------------------------------------------------------------------------


def test_yaml_numbers_and_booleans_become_literals() -> None:
    state = load(
        table_file(
            "      a: {type: integer, default: 0}\n"
            "      b: {type: numeric, default: 1.50}\n"
            "      c: {type: integer, default: -3}\n"
            "      d: {type: boolean, default: true}\n"
            "      e: {type: boolean, default: false}\n"
            "      f: {type: text, default: null}\n"
            "      g: {type: text, default: \"'x'\"}\n"
            "      h: {type: integer, backfill: 7}\n"
            "      i: {type: integer}\n"
        )
    )
    defaults = {c.name: c.default for c in state.tables[0].columns}
    assert defaults == {
        "a": "0",
        "b": "1.50",
        "c": "-3",
        "d": "true",
        "e": "false",
        "f": None,
        "g": "'x'",
        "h": None,
        "i": None,
    }
    assert state.tables[0].columns[7].backfill == "7"


def test_durations_and_defaults_of_settings() -> None:
    state = load("version: 1\nsettings: {lock_timeout: 500ms, statement_timeout: 1h}\n")
    assert (state.settings.lock_timeout_ms, state.settings.statement_timeout_ms) == (500, 3600000)
    assert load("version: 1\nsettings: {lock_timeout: 2000}\n").settings.lock_timeout_ms == 2000
    assert load("version: 1\n").settings.retries == 5


def test_table_names_are_exact_and_may_be_quoted() -> None:
    state = load(
        """\
        version: 1
        tables:
          Mixed: {}
          ledger."Order.Items": {}
          '"we""ird".t': {}
          '"public"."x"': {}
        """
    )
    assert [t.name for t in state.tables] == [
        QualifiedName("public", "Mixed"),
        QualifiedName("ledger", "Order.Items"),
        QualifiedName('we"ird', "t"),
        QualifiedName("public", "x"),
    ]


def test_unique_foreign_keys_and_checks_are_kept() -> None:
    state = load(
        table_file(
            "      id: {type: bigint}\n      u_id: {type: bigint}\n",
            "    primary_key: {name: t_pk, columns: [id]}\n"
            "    unique: {t_u: {columns: [u_id], deferrable: initially_deferred}}\n"
            "    foreign_keys:\n"
            "      t_fk: {columns: [u_id], references: {table: u}, on_delete: cascade}\n"
            "    checks: {positive: id > 0}\n"
            "  u:\n    columns: {id: {type: bigint}}\n    primary_key: [id]\n",
        )
    )
    table = state.tables[0]
    assert table.primary_key is not None and table.primary_key.name == "t_pk"
    assert table.unique[0].columns == ("u_id",)
    assert (table.unique[0].deferrable, table.unique[0].initially_deferred) == (True, True)
    key = table.foreign_keys[0]
    assert (key.references, key.referenced_columns, key.on_delete) == (
        QualifiedName("public", "u"),
        (),
        "cascade",
    )
    assert table.checks[0].expr == "id > 0"
    assert table.checks[0].source == Source("schema.yaml", 11, 14)


# -- errors, each at its exact place -------------------------------------------------------


def test_unknown_key_points_at_the_key() -> None:
    assert errors(table_file("      id: {type: text, nulable: false}\n")) == [
        "schema.yaml:5:24: unknown key 'nulable' in column 'id' (expected one of: type, "
        "nullable, default, identity, generated, collation, comment, using, backfill, "
        "backfill_where, renamed_from, state); did you mean 'nullable'?"
    ]


def test_wrong_type_points_at_the_value() -> None:
    assert errors(table_file("      id: {type: text, nullable: 'no'}\n")) == [
        "schema.yaml:5:34: 'nullable' of column 'id' must be true or false, not the string 'no'"
    ]
    assert errors(table_file("      id: text\n")) == [
        "schema.yaml:5:11: column 'id' must be a mapping, not the string 'text'"
    ]


def test_missing_type_points_at_the_column_name() -> None:
    assert errors(table_file("      id: {nullable: false}\n      gone: {state: absent}\n")) == [
        "schema.yaml:5:7: column 'id' is missing required key 'type'"
    ]


def test_bad_yaml() -> None:
    assert errors("version: 1\ntables: {t: {columns: {id: {type: text}}}\n") == [
        "schema.yaml:3:1: expected ',' or '}', but got '<stream end>' "
        "(while parsing a flow mapping at line 2)"
    ]
    assert errors("version: 1\ntables:\n  t: {}\n bad: 1\n") == [
        "schema.yaml:4:2: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block mapping at line 1)"
    ]


def test_duplicate_key() -> None:
    assert errors(table_file("      id: {type: text}\n      id: {type: bigint}\n")) == [
        "schema.yaml:6:7: duplicate key 'id' in 'columns' of table 't' (first at line 5)"
    ]


def test_index_on_undeclared_or_absent_column() -> None:
    text = table_file(
        "      id: {type: text}\n      old: {state: absent}\n",
        "    indexes:\n"
        "      i1: {columns: [id, idd]}\n"
        "      i2: {columns: [{column: old}], include: [nope]}\n"
        "    primary_key: [missing]\n",
    )
    assert errors(text) == [
        "schema.yaml:8:26: index 'i1' uses column 'idd', which table public.t does not declare",
        "schema.yaml:9:31: index 'i2' uses column 'old', which is declared state: absent",
        "schema.yaml:9:48: index 'i2' (include) uses column 'nope', "
        "which table public.t does not declare",
        "schema.yaml:10:19: primary key uses column 'missing', "
        "which table public.t does not declare",
    ]


def test_absent_index_may_name_absent_columns() -> None:
    text = table_file(
        "      id: {type: text}\n      old: {state: absent}\n",
        "    indexes:\n      i_old: {state: absent, columns: [old]}\n",
    )
    assert load(text).tables[0].indexes[0].state == "absent"


def test_duplicate_table_after_normalization() -> None:
    text = """\
    version: 1
    tables:
      t: {}
      public.t: {}
      '"public"."t"': {}
      Public.t: {}
    """
    assert errors(text) == [
        "schema.yaml:4:3: table public.t is declared twice (first at schema.yaml:3:3)",
        "schema.yaml:5:3: table public.t is declared twice (first at schema.yaml:3:3)",
    ]


def test_bad_table_keys() -> None:
    text = """\
    version: 1
    tables:
      ledger.Order.Items: {}
      'ledger."Order': {}
      '"a"b': {}
      x. y: {}
    """
    assert errors(text) == [
        "schema.yaml:3:3: table key 'ledger.Order.Items' has 3 dot-separated parts, not "
        'schema.name; a name that holds a dot must be in double quotes, as in ledger."Order.Items"',
        "schema.yaml:4:3: table key 'ledger.\"Order' has an unterminated double quote",
        "schema.yaml:5:3: table key '\"a\"b' has text right after a quoted name "
        "(expected '.' or the end)",
        "schema.yaml:6:3: table key 'x. y' has white space around an unquoted name; "
        "write that part in double quotes",
    ]


def test_index_names_share_the_schema_namespace() -> None:
    text = """\
    version: 1
    tables:
      a:
        columns: {id: {type: int}}
        indexes: {idx: {columns: [id]}}
      b:
        columns: {id: {type: int}}
        indexes: {idx: {columns: [id]}, a: {columns: [id]}}
      other.c:
        columns: {id: {type: int}}
        indexes: {idx: {columns: [id]}}
    """
    assert errors(text) == [
        "schema.yaml:8:15: index 'idx' of table public.b: the name 'idx' is already taken in "
        "schema public by index 'idx' of table public.a at schema.yaml:5:15",
        "schema.yaml:8:37: index 'a' of table public.b: the name 'a' is already taken in "
        "schema public by table public.a at schema.yaml:3:3",
    ]


def test_injection_in_an_expression_is_rejected() -> None:
    text = table_file(
        "      a: {type: int, default: '1); DROP TABLE x; SELECT (1'}\n"
        "      b: {type: int, default: '1, 2'}\n"
        "      c: {type: int, default: '1 -- note'}\n",
        "    indexes:\n      i: {columns: [a], where: 'a > 0; DROP TABLE t'}\n",
    )
    assert errors(text) == [
        "schema.yaml:5:31: default of column 'a' is not valid SQL: syntax error at or near \")\"",
        "schema.yaml:6:31: default of column 'b' is not one SQL expression",
        "schema.yaml:7:31: default of column 'c' ends in a -- comment, which would swallow the "
        "SQL written after it; remove it or use /* ... */",
        "schema.yaml:9:32: where of index 'i' is not one SQL expression",
    ]


def test_assertion_must_be_one_select() -> None:
    text = """\
    version: 1
    assertions:
      a: DELETE FROM t
      b: SELECT 1; SELECT 2
      c: WITH d AS (DELETE FROM t RETURNING id) SELECT id FROM d
      ok: SELECT 1 WHERE false;
    """
    assert errors(text) == [
        "schema.yaml:3:6: assertion 'a' must be a SELECT query, not Delete",
        "schema.yaml:4:6: assertion 'b' must be one query, not 2 statements",
        "schema.yaml:5:6: assertion 'c' must only read (it holds INSERT, UPDATE, DELETE or MERGE)",
    ]


def test_bad_types() -> None:
    text = table_file(
        "      a: {type: 'int); DROP TABLE t; --'}\n"
        "      b: {type: 'int, x int'}\n"
        "      c: {type: 'text COLLATE \"C\"'}\n"
        "      d: {type: 'varchar(32)'}\n"
        "      e: {type: text, identity: always}\n"
    )
    assert errors(text) == [
        "schema.yaml:5:17: type of column 'a' is not valid SQL: syntax error at or near \")\"",
        "schema.yaml:6:17: type of column 'b' is not one type name",
        "schema.yaml:7:17: type of column 'c' is not one type name",
        "schema.yaml:9:33: identity column 'e' must be smallint, integer or bigint, not text",
    ]


def test_forbidden_column_combinations() -> None:
    text = table_file(
        "      a: {type: int, identity: always, default: 1}\n"
        "      b: {type: int, generated: a * 2, default: 0}\n"
        "      c: {type: int, identity: always, generated: a * 2}\n"
        "      d: {type: int, backfill_where: a > 0}\n"
    )
    assert errors(text) == [
        "schema.yaml:5:49: identity column 'a' cannot have a default",
        "schema.yaml:6:49: generated column 'b' cannot have a default",
        "schema.yaml:7:51: column 'c' cannot be both identity and generated",
        "schema.yaml:8:38: backfill_where of column 'd' needs a backfill",
    ]


def test_several_errors_are_reported_at_once_in_file_order() -> None:
    text = """\
    version: 1
    settings: {lock_timeout: 3 seconds, allow: [destructive]}
    tabels: {}
    tables:
      t:
        columns:
          id: {type: text, nullable: 1}
        indexes:
          i: {columns: [nope], using: gin, unique: true}
    """
    assert errors(text) == [
        "schema.yaml:2:26: 'lock_timeout' of 'settings' must be a duration such as 500ms, 3s, "
        "30min or 1h, not the string '3 seconds'",
        "schema.yaml:2:45: destructive changes cannot be allowed in the file; "
        "give --allow destructive to apply",
        "schema.yaml:3:1: unknown key 'tabels' at the top of the file (expected one of: version, "
        "settings, extensions, schemas, enums, domains, composite_types, range_types, "
        "sequences, tables, functions, procedures, views, "
        "materialized_views, "
        "triggers, policies, default_privileges, assertions, or x-...); did you mean 'tables'?",
        "schema.yaml:7:34: 'nullable' of column 'id' must be true or false, not the number 1",
        "schema.yaml:9:21: index 'i' uses column 'nope', which table public.t does not declare",
        "schema.yaml:9:48: index 'i' uses gin, which cannot be unique",
    ]


def test_file_that_is_not_a_schema() -> None:
    assert errors("") == ["schema.yaml:1:1: the file is empty; it needs at least 'version: 1'"]
    assert errors("- a\n") == [
        "schema.yaml:1:1: the file must be a mapping with 'version: 1' at the top, not a list"
    ]
    assert errors("tables: {}\n") == [
        "schema.yaml:1:1: the file has no 'version' (write version: 1 at the top)"
    ]
    assert errors("version: 2\ntables: 5\n") == [
        "schema.yaml:1:10: unsupported file format version 2: this mmschema reads version: 1"
    ]


def test_missing_file() -> None:
    with pytest.raises(InvalidFile) as caught:
        load_desired(Path("nope.yaml"))
    assert caught.value.errors == ["nope.yaml: cannot read: No such file or directory"]


# -- directories ---------------------------------------------------------------------------


def test_directory_is_merged_in_name_order() -> None:
    write("db/b.yaml", "version: 1\nextensions: [pg_trgm, btree_gin]\ntables: {b: {}}\n")
    write(
        "db/a.yaml",
        "version: 1\nsettings: {retries: 2}\nextensions: [btree_gin]\n"
        "tables: {a: {}}\nassertions: {x: SELECT 1 WHERE false}\n",
    )
    write("db/notes.txt", "not yaml")
    state = load_desired(Path("db"))
    assert [t.name.name for t in state.tables] == ["a", "b"]
    assert state.tables[1].source == Source("db/b.yaml", 3, 10)
    assert state.extensions == ("btree_gin", "pg_trgm")
    assert state.settings.retries == 2
    assert state.assertions == {"x": "SELECT 1 WHERE false"}
    assert state.text.startswith("# file: a.yaml\nversion: 1\n")
    assert "\n# file: b.yaml\nversion: 1\n" in state.text
    again = load_text(state.text)
    assert [t.name for t in again.tables] == [t.name for t in state.tables]
    assert again.tables[1].source == Source("b.yaml", 3, 10)
    assert again.text == state.text


def test_table_declared_in_two_files() -> None:
    write("db/a.yaml", "version: 1\nsettings: {retries: 1}\ntables:\n  t: {}\n")
    write("db/b.yaml", "version: 1\nsettings: {retries: 2}\ntables:\n  public.t: {}\n")
    with pytest.raises(InvalidFile) as caught:
        load_desired(Path("db"))
    assert caught.value.errors == [
        "db/b.yaml:2:1: settings are already given at db/a.yaml:2:1; give them in one file only",
        "db/b.yaml:4:3: table public.t is declared twice (first at db/a.yaml:4:3)",
    ]


def test_errors_of_several_files_sort_by_file_then_line() -> None:
    write("db/a.yaml", "version: 1\ntables:\n  t: {columns: {id: {type: 'in t'}}}\n")
    write("db/b.yaml", "version: 1\nbogus: 1\n")
    with pytest.raises(InvalidFile) as caught:
        load_desired(Path("db"))
    assert caught.value.errors == [
        "db/a.yaml:3:28: type of column 'id' is not valid SQL: syntax error at or near \"in\"",
        "db/b.yaml:2:1: unknown key 'bogus' at the top of the file (expected one of: version, "
        "settings, extensions, schemas, enums, domains, composite_types, range_types, "
        "sequences, tables, functions, procedures, views, "
        "materialized_views, "
        "triggers, policies, default_privileges, assertions, or x-...)",
    ]


# -- the JSON Schema -----------------------------------------------------------------------


def test_json_schema_is_valid_and_documented() -> None:
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    definitions = schema["$defs"]
    assert isinstance(definitions, dict)
    for name in ("table", "column", "index"):
        for key, spec in definitions[name]["properties"].items():
            target = definitions[spec["$ref"].split("/")[-1]] if "$ref" in spec else {}
            assert "description" in spec or "description" in target, (name, key)


def test_anchors_live_under_x_keys_and_merge() -> None:
    state = load(
        """\
        version: 1
        x-stamp: &stamp {type: timestamptz, nullable: false, default: now()}
        tables:
          t:
            columns:
              created: *stamp
              updated: {<<: *stamp, nullable: true}
        """
    )
    created, updated = state.tables[0].columns
    assert (created.type, created.nullable, created.default) == ("timestamptz", False, "now()")
    assert (updated.nullable, updated.source) == (True, Source("schema.yaml", 7, 7))


def test_a_typo_for_a_required_key_is_reported_once() -> None:
    assert errors(table_file("      id: {typ: text}\n")) == [
        "schema.yaml:5:12: unknown key 'typ' in column 'id' (expected one of: type, nullable, "
        "default, identity, generated, collation, comment, using, backfill, backfill_where, "
        "renamed_from, state); did you mean 'type'?"
    ]


def test_settings_and_references_are_checked() -> None:
    text = """\
    version: 1
    settings: {lock_timeout: 1min, statement_timeout: 30s}
    tables:
      a:
        columns: {id: {type: int}, b_id: {type: int}}
        foreign_keys:
          to_b: {columns: [b_id], references: {table: b, columns: [nope]}}
          to_c: {columns: [b_id], references: {table: c}}
      b: {columns: {id: {type: int}}}
      c: {columns: {id: {type: int}}}
    """
    assert errors(text) == [
        "schema.yaml:2:26: lock_timeout (60000ms) must be shorter than statement_timeout (30000ms)",
        "schema.yaml:7:7: foreign key 'to_b' references table public.b, "
        "which does not declare column 'nope'",
        "schema.yaml:8:7: foreign key 'to_c' references table public.c without columns, "
        "but it has no primary_key",
    ]


# -- enums ---------------------------------------------------------------------------------

ENUM_TABLE = "tables:\n  t:\n    columns:\n      id: {type: text}\n"


def test_enums_load_with_names_labels_and_state() -> None:
    state = load(
        "version: 1\n"
        "enums:\n"
        "  order_status: {labels: [new, open, filled]}\n"
        "  ledger.side: {labels: [buy, sell], state: present}\n"
        "  old_kind: {state: absent}\n" + ENUM_TABLE
    )
    assert [(e.name, e.labels, e.state) for e in state.enums] == [
        (QualifiedName("public", "order_status"), ("new", "open", "filled"), "present"),
        (QualifiedName("ledger", "side"), ("buy", "sell"), "present"),
        (QualifiedName("public", "old_kind"), (), "absent"),
    ]
    assert state.enums[0].source == Source("schema.yaml", 3, 3)


def test_enum_unknown_key_is_rejected() -> None:
    found = errors("version: 1\nenums:\n  side: {labels: [buy], values: [x]}\n" + ENUM_TABLE)
    assert len(found) == 1
    assert found[0].startswith("schema.yaml:3:")
    assert "unknown key 'values'" in found[0]


def test_enum_needs_labels_unless_absent() -> None:
    found = errors("version: 1\nenums:\n  side: {state: present}\n" + ENUM_TABLE)
    assert len(found) == 1 and "labels" in found[0], found


def test_enum_bad_name_is_rejected() -> None:
    found = errors("version: 1\nenums:\n  a.b.c: {labels: [x]}\n" + ENUM_TABLE)
    assert found == [
        "schema.yaml:3:3: enum 'a.b.c' has 3 dot-separated parts, not schema.name; "
        'a name that holds a dot must be in double quotes, as in ledger."Order.Items"'
    ]


def test_enum_duplicate_label_is_rejected() -> None:
    found = errors("version: 1\nenums:\n  side: {labels: [buy, sell, buy]}\n" + ENUM_TABLE)
    assert len(found) == 1
    assert found[0].startswith("schema.yaml:3:")
    assert "lists label 'buy' twice" in found[0]


def test_enum_declared_in_two_files_is_rejected() -> None:
    write("many/a.yaml", "version: 1\nenums:\n  side: {labels: [buy]}\n" + ENUM_TABLE)
    write("many/b.yaml", "version: 1\nenums:\n  public.side: {labels: [buy]}\n")
    with pytest.raises(InvalidFile) as caught:
        load_desired(Path("many"))
    assert len(caught.value.errors) == 1
    assert "enum public.side is declared twice" in caught.value.errors[0]


def test_enum_labels_must_be_strings() -> None:
    found = errors("version: 1\nenums:\n  n: {labels: [1, 2]}\n" + ENUM_TABLE)
    assert len(found) == 2, found
