"""bench/sqldef_renames: sqldef's rename comments become the dumped file's rename keys."""

from __future__ import annotations

import pytest
import yaml

from bench.sqldef_renames import with_renames

AFTER = """
CREATE TABLE "UserAccounts" ( -- @renamed from=user_accounts
  id int,
  user_name text, -- @renamed from="User Name"
  age integer
);
CREATE TYPE workflow AS ENUM ('active', 'waiting' /* @renamed from=pending */, 'done');
CREATE TYPE order_state /* @renamed from=order_status */ AS ENUM ('a');
"""
DUMPED = """version: 1
enums:
  workflow: {labels: [active, waiting, done]}
  order_state: {labels: [a]}
tables:
  UserAccounts:
    columns:
      id: {type: integer}
      user_name: {type: text}
      age: {type: integer}
"""


@pytest.mark.one_major
def test_table_column_and_label_renames_are_declared_and_an_enum_type_rename_is_not() -> None:
    text, count = with_renames(DUMPED, AFTER)
    document = yaml.safe_load(text)
    assert count == 3
    table = document["tables"]["UserAccounts"]
    assert table["renamed_from"] == "user_accounts"
    assert table["columns"]["user_name"]["renamed_from"] == "User Name"
    assert "renamed_from" not in table["columns"]["age"]
    assert document["enums"]["workflow"]["renamed_labels"] == {"waiting": "pending"}
    assert document["enums"]["order_state"] == {"labels": ["a"]}
