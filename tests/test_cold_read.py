"""A cold plan reads the target while the file is checked, on the names its text shows."""

from __future__ import annotations

import pytest

from mmschema.cold_read import table_names_in_text
from mmschema.model import QualifiedName
from tests.outside import Shell

DUMPED = """version: 1
# a comment
tables:
  s1.orders:
    columns:
      id:
        type: bigint
  Items: {columns: {id: {type: bigint}}}   # flow style inside is fine

  "s1".notes:
    columns: {}
views:
  v: {query: SELECT 1}
"""


def test_the_keys_under_tables_are_the_names_in_file_order() -> None:
    names = table_names_in_text(DUMPED.replace('"s1".notes', "s1.notes"))
    assert names == [
        QualifiedName("s1", "orders"),
        QualifiedName("public", "Items"),  # as the file loads it
        QualifiedName("s1", "notes"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        DUMPED,  # a quoted key: left to the YAML parser
        "version: 1\ntables: {a: {columns: {}}}\n",
        "version: 1\ntables:\n  a:\n    renamed_from: b\n",  # reads b too
        "version: 1\ntables:\n  p_1:\n    partition_of: {table: p, bound: DEFAULT}\n",
        "version: 1\ntables:\n    a:\n      columns: {}\n  b:\n",  # indentation changes
        "version: 1\ntables:\n  ? a\n  : {}\n",
        "version: 1\nviews: {}\n",
    ],
)
def test_anything_else_guesses_nothing(text: str) -> None:
    assert table_names_in_text(text) is None


@pytest.mark.one_major
@pytest.mark.parametrize("shell", ["user"], indirect=True)
@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_wrong_file_is_reported_before_an_unreachable_target(shell: Shell, command: str) -> None:
    """The read started beside the check fails to connect: the file's error is the answer."""
    shell.write("schema.yaml", "version: 1\ntables:\n  t:\n    columns: {id: {typ: bigint}}\n")
    outcome = shell.run(command, "-d", "postgresql://nobody@127.0.0.1:1/nowhere")
    assert outcome.code == 1
    assert outcome.stderr.startswith("schema.yaml:4:"), outcome.stderr
    assert "cannot connect" not in outcome.output and "Traceback" not in outcome.output
