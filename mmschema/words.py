"""Counted nouns for messages: "1 change", "2 changes", "1 batch", "3 batches"."""

from __future__ import annotations


def count(number: int, noun: str) -> str:
    """`number` and the noun, in the plural unless the number is exactly one."""
    if number == 1:
        return f"{number} {noun}"
    if noun.endswith("y") and not noun.endswith(("ay", "ey", "oy", "uy")):
        return f"{number} {noun[:-1]}ies"  # "policy" -> "policies"
    ending = "es" if noun.endswith(("s", "x", "ch", "sh")) else "s"
    return f"{number} {noun}{ending}"


def singular(file_key: str) -> str:
    """A file's top-level key as one of its objects: "policies" -> "policy",
    "materialized_views" -> "materialized view"."""
    noun = file_key.replace("_", " ")
    return noun[:-3] + "y" if noun.endswith("ies") else noun.removesuffix("s")
