"""The quick validity check says "valid" only where jsonschema finds nothing, and says it
for the valid files there are (so they skip the slow walk)."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from mmschema.desired.schemaerrors import _quick_check, _validator

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("tests/**/*.yaml"), *ROOT.glob("examples/**/*.yaml")])
ODD_VALUES: list[object] = [
    None, True, False, 0, 1, -1, 1.5, float("nan"), "", "x", "GIN", "absent", "always",
    [], ["a", "a"], [1, True], {}, {"x": 1}, {"expr": ""}, {"generated": "always"},
]


def documents() -> list[object]:
    found: list[object] = []
    for path in FILES:
        try:
            value = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def mutated(value: object, rng: random.Random) -> object:
    """The value with one node somewhere replaced by an odd value (or a key added/removed)."""
    copied = copy.deepcopy(value)
    node: Any = copied
    for _ in range(rng.randrange(1, 8)):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        if not children:
            break
        key, child = rng.choice(children)
        if not isinstance(child, dict | list) or rng.random() < 0.3:
            choice = rng.random()
            if choice < 0.7:
                node[key] = copy.deepcopy(rng.choice(ODD_VALUES))
            elif isinstance(node, dict) and choice < 0.85:
                del node[key]
            elif isinstance(node, dict):
                node[rng.choice(["x-note", "extra", "state", "type", "expr"])] = rng.choice(
                    ODD_VALUES
                )
            return copied
        node = child
    return copied


def jsonschema_valid(value: object) -> bool:
    return not any(True for _ in _validator().iter_errors(value))


@pytest.mark.one_major
def test_every_valid_file_is_quickly_valid_and_no_invalid_one_is() -> None:
    valid = 0
    for value in documents():
        assert _quick_check()(value) == jsonschema_valid(value)
        valid += jsonschema_valid(value)
    assert valid > 100


@pytest.mark.one_major
def test_the_quick_check_never_passes_what_jsonschema_refuses() -> None:
    rng = random.Random(11)
    values = documents()
    passed = refused = 0
    for _ in range(3000):
        value = mutated(rng.choice(values), rng)
        if _quick_check()(value):
            assert jsonschema_valid(value), value
            passed += 1
        else:
            refused += 1
    assert passed > 100 and refused > 500
