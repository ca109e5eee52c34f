"""A plain file is built from libyaml's events, without a node tree: same values, same positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmschema.desired import yamlpos
from mmschema.desired.yamlpos import YamlDocument, YamlError, load_yaml
from tests.outside import Shell

ROOT = Path(__file__).resolve().parent.parent
ODD = [
    "",
    "---\n",
    "# only a comment\n",
    "a: 1\na: 2\n",
    "a: [1, {b: c}]\nb: !!str 1\n",
    "? [a]\n: b\n",
    "<<: {a: 1}\nb: 2\n",
    "a: b\n---\nc: d\n",
    "x: [\n",
    "a: 2021-01-01\nb: 0x1F\nc: ~\nd: yes\ne: 1.5e3\nf: .nan\ng: on\n'q': \"w\"\n",
    "- a\n- b: c\n  d: [1,2]\n-\n- {}\n",
    "a: 2021-13-45\n",
    "a: ! 12\n",
]


def by_tree(text: str, name: str) -> YamlDocument | None:
    """What load_yaml builds through the node tree (the path files with anchors take)."""
    root = yamlpos._compose(text, name)
    if root is None:
        return None
    builder = yamlpos._Builder(name, count_repeats="&" in text)
    builder.document.value = builder.build(root, ())
    return builder.document


def outcome(load: object, text: str) -> object:
    try:
        document = load(text, "f.yaml")  # type: ignore[operator]
    except YamlError as error:
        return str(error)
    if document is None:
        return None
    return (
        repr(document.value),
        list(document.positions.items()),
        list(document.key_positions.items()),
        list(document.scalar_text.items()),
        document.duplicates,
        document.problems,
    )


@pytest.mark.parametrize("text", ODD)
def test_odd_texts_load_as_through_the_node_tree(text: str) -> None:
    assert outcome(load_yaml, text) == outcome(by_tree, text)


def test_the_project_files_load_as_through_the_node_tree() -> None:
    files = [*ROOT.glob("tests/**/*.yaml"), *ROOT.glob("examples/**/*.yaml")]
    streamed = 0
    for file in files:
        text = file.read_text()
        streamed += yamlpos._stream(text, "f.yaml") is not yamlpos._UNUSUAL
        assert outcome(load_yaml, text) == outcome(by_tree, text), file
    assert streamed > len(files) // 2


@pytest.mark.one_major
def test_a_date_that_is_no_date_is_one_line_at_its_place(shell: Shell) -> None:
    shell.write(
        "schema.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: date, default: 2021-13-45}\n",
    )
    result = shell.run("validate")
    assert result.code == 1, result.output
    assert "schema.yaml:5:" in result.stderr and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
