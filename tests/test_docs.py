"""The documentation is in the project and complete: every key, command, flag and hazard."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmschema.cli import build_parser
from mmschema.hazard_kinds import HAZARD_KINDS

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
FORMAT = ROOT / "mmschema" / "desired" / "format.json"


def format_keys(node: Any, schema: dict[str, Any]) -> Iterator[str]:
    """Every property name the file format knows, at any depth."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield from format_keys(schema["$defs"][node["$ref"].split("/")[-1]], schema)
        for name, value in node.get("properties", {}).items():
            yield name
            yield from format_keys(value, schema)
        for key, value in node.items():
            if key not in ("properties", "$defs", "$ref"):
                yield from format_keys(value, schema)
    elif isinstance(node, list):
        for item in node:
            yield from format_keys(item, schema)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices)


def test_the_readme_points_to_the_reference_not_outside_the_project() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme and "SPEC" not in readme
    assert "docs/reference.md" in readme
    commands = re.findall(r"^\s*(make \w+)", readme, re.M)
    assert sorted(set(commands)) == ["make install", "make test"], commands


def test_the_reference_names_every_key_of_the_format() -> None:
    text = REFERENCE.read_text()
    schema = json.loads(FORMAT.read_text())
    missing = sorted({k for k in format_keys(schema, schema) if f"`{k}`" not in text})
    assert missing == [], f"docs/reference.md does not describe: {missing}"


def test_the_reference_names_every_command_flag_hazard_and_exit_code() -> None:
    text = REFERENCE.read_text()
    for name, sub in subcommands().items():
        assert f"### {name}" in text, f"no section for mmschema {name}"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert f"`{flag}" in text, f"mmschema {name} {flag} is not described"
    for kind in HAZARD_KINDS:
        assert f"`{kind}`" in text
    for code in range(4):
        assert f"| {code} |" in text
    assert "mmschema/render/plan.schema.json" in text


def test_the_ci_example_installs_what_exists() -> None:
    for path in (ROOT / "examples" / "ci").iterdir():
        text = path.read_text()
        assert not re.search(r"pip install mmschema\b", text), path
