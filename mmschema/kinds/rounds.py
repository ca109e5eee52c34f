"""Declared objects made on the scratch server in rounds, whatever their kind, so that one may
read another declared later (a view over a materialized view over a view), then read back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import psycopg
from psycopg import errors as pg_errors

from mmschema.connect import primary_message
from mmschema.kinds.base import KindObject
from mmschema.scratch_chunks import ScratchRun


class MadeInRounds(Protocol):
    """A kind whose declared objects are created one by one on the scratch server."""

    def scratch_statements(self, item: KindObject) -> list[str]: ...

    def described(self, item: KindObject) -> str: ...  # "view public.v", for errors

    def read_back(self, run: ScratchRun, declared: Sequence[KindObject]) -> list[KindObject]: ...


def made_in_rounds(
    run: ScratchRun, groups: Sequence[tuple[MadeInRounds, Sequence[KindObject]]]
) -> list[KindObject]:
    """Each present object created in its own savepoint, round after round while any
    succeeds; what never does is reported at its place in the file (and nothing is read
    back); else each kind reads its objects back as the server prints them."""
    pending = [(kind, item) for kind, items in groups for item in items if item.state == "present"]
    failures: dict[int, str] = {}
    while pending:
        left = []
        for kind, item in pending:
            try:
                with run.conn.transaction():
                    for statement in kind.scratch_statements(item):
                        run.confinement.run(statement)
            except pg_errors.OutOfMemory:
                raise
            except psycopg.Error as error:
                failures[id(item)] = primary_message(error)
                left.append((kind, item))
        if len(left) == len(pending):
            break
        pending = left
    for kind, item in pending:
        where = getattr(item, "source", None)
        run.report(f"{where}: {kind.described(item)}: {failures[id(item)]}")
    if pending:
        return []
    found: list[KindObject] = []
    for kind, items in groups:
        present = [item for item in items if item.state == "present"]
        if present:
            found += kind.read_back(run, present)
    return found
