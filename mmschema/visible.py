"""Error lines as one line of visible text: control characters a file's names hold escaped."""

from __future__ import annotations

import re

# C0 controls (a newline too: one error, one line), DEL and C1 controls: a name holding
# ESC [31m would colour the terminal, one holding a newline would split the error in two.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# A message quoting a megabyte-long value is cut in its middle to this many characters.
LONGEST = 1000


def visible(line: str) -> str:
    """The line with each control character written as its escape (\\x1b, \\n), and its
    middle left out when it is very long (the place at its start stays)."""
    line = _CONTROL.sub(_escape, line)
    if len(line) <= LONGEST:
        return line
    left_out = len(line) - LONGEST
    return f"{line[: LONGEST - 200]} [... {left_out} characters ...] {line[-200:]}"


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(character, f"\\x{ord(character):02x}")
