"""Every ```yaml block of README.md and docs/*.md is a file `mmschema validate` accepts.

A block that does not start with `version:` is a part of a file: it is validated with
`version: 1` above it. Deliberate fragments (a column map, one table's keys) are marked
```yaml fragment and only parsed; an inventory is marked ```yaml inventory and must have
`targets`.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.outside import Outcome, Shell, users

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(yaml[^\n]*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class YamlBlock:
    where: str  # file:line of the fence
    mark: str  # "", "fragment" or "inventory"
    text: str


def yaml_blocks() -> list[YamlBlock]:
    found: list[YamlBlock] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            mark = match.group(1).removeprefix("yaml").strip()
            found.append(YamlBlock(f"{path.relative_to(ROOT)}:{line}", mark, match.group(2)))
    return found


def test_the_docs_have_yaml_blocks_and_know_their_marks() -> None:
    blocks = yaml_blocks()
    assert len([b for b in blocks if not b.mark]) >= 20
    for block in blocks:
        assert block.mark in ("", "fragment", "inventory"), block.where
        document = yaml.safe_load(block.text)
        assert isinstance(document, dict), block.where
        if block.mark == "inventory":
            assert "targets" in document, block.where


@pytest.mark.one_major
def test_every_yaml_block_of_the_docs_is_valid(shell: Shell) -> None:
    if len(users()) > 1 and not shell.user.is_root:
        pytest.skip("validated once, as root: the files are the same for every user")
    blocks = [b for b in yaml_blocks() if not b.mark]

    def validated(number: int) -> Outcome:
        text = blocks[number].text
        if not text.startswith("version:"):
            text = "version: 1\n" + text
        place = shell.elsewhere(f"block{number}")
        place.write("schema.yaml", text)
        return place.run("validate")

    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        outcomes = list(pool.map(validated, range(len(blocks))))
    failed = [
        f"{block.where}: {outcome.output.strip()}"
        for block, outcome in zip(blocks, outcomes, strict=True)
        if outcome.code != 0
    ]
    assert not failed, "\n".join(failed)
