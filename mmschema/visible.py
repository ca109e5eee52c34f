"""Error lines as one line of visible text: control characters a file's names hold escaped."""

from __future__ import annotations

import re

# C0 controls (a newline too: one error, one line), DEL and C1 controls: a name holding
# ESC [31m would colour the terminal, one holding a newline would split the error in two.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(line: str) -> str:
    """The line with each control character written as its escape (\\x1b, \\n)."""
    return _CONTROL.sub(_escape, line)


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(character, f"\\x{ord(character):02x}")
