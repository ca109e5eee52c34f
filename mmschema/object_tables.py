"""The declared tables the file's views, triggers, policies and routines may name.

Normalizing those objects creates tables beside them on the scratch server, in one
transaction, and every table created holds lock slots until it ends: all 5,000 tables of a
file ran out of them ("out of shared memory"). Only the tables an object's text could name
are needed there. The test is by words, and errs only on the side of taking a table: a name
appearing anywhere in an object (its SQL, its table, its types) takes the table, and so do
the tables it must be created with (a partition tree, a table whose row type a column uses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from mmschema.desired.declared import DeclaredTable
from mmschema.model import QualifiedName

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# A name written otherwise in SQL than in its own letters (quotes doubled, escapes): taken.
UNSURE_NAME = re.compile(r"[\"\\]|[^\x20-\x7e\u00a0-\uffff]")
# U&"d\0061ta" spells a name in escapes: no word test is sure then.
UNICODE_ESCAPE = "u&"


def named_tables(
    tables: Sequence[DeclaredTable],
    texts: Iterable[str],
    links: Iterable[tuple[QualifiedName, QualifiedName]],
    object_names: Iterable[str] = (),
) -> list[DeclaredTable]:
    """The tables whose names occur in the texts (as words, letters' case aside), and those
    naming one of `object_names` (a routine or type read back with the tables using it),
    with the tables linked to them; all of them when any text spells names in escapes."""
    text = "\n".join(texts).lower()
    if UNICODE_ESCAPE in text:
        return list(tables)
    words = set(WORD.findall(text))
    wanted = {t.name for t in tables if _named(t.name.name, words, text)}
    names = set(object_names)
    for table in tables if names else ():
        own = repr(table).lower()
        if UNICODE_ESCAPE in own:
            return list(tables)
        own_words = set(WORD.findall(own))
        if any(_named(name, own_words, own) for name in names):
            wanted.add(table.name)
    wanted |= _linked(wanted, links)
    return [t for t in tables if t.name in wanted]


def _named(name: str, words: set[str], text: str) -> bool:
    lowered = name.lower()
    if WORD.fullmatch(name):
        return lowered in words
    if UNSURE_NAME.search(name):
        return True
    return lowered in text


def _linked(
    wanted: set[QualifiedName], links: Iterable[tuple[QualifiedName, QualifiedName]]
) -> set[QualifiedName]:
    """The tables reachable from `wanted` over the links, either way."""
    neighbours: dict[QualifiedName, set[QualifiedName]] = {}
    for one, other in links:
        neighbours.setdefault(one, set()).add(other)
        neighbours.setdefault(other, set()).add(one)
    reached = set(wanted)
    pending = list(wanted)
    while pending:
        for name in neighbours.get(pending.pop(), ()):
            if name not in reached:
                reached.add(name)
                pending.append(name)
    return reached - wanted
