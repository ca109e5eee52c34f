"""Counted nouns for messages: "1 change", "2 changes", "1 batch", "3 batches"."""

from __future__ import annotations


def count(number: int, noun: str) -> str:
    """`number` and the noun, in the plural unless the number is exactly one."""
    if number == 1:
        return f"{number} {noun}"
    ending = "es" if noun.endswith(("s", "x", "ch", "sh")) else "s"
    return f"{number} {noun}{ending}"
