"""The small protocol every object kind module implements, and the objects it trades in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import psycopg

    from mmschema.changes import Change
    from mmschema.desired.build import Context
    from mmschema.scratch_chunks import ScratchRun


class KindObject(Protocol):
    """One object of a kind, declared or live: equal when PostgreSQL would print it the same."""

    @property
    def key(self) -> str: ...

    @property
    def state(self) -> str: ...  # "present" | "absent" (live objects are always present)


class Kind(Protocol):
    """One object kind: its file key, how it is read, normalized, compared, planned and dumped.

    Each step gets and returns only its own kind's objects; the pipeline (mmschema/pipeline)
    calls them for every registered kind without naming any.
    """

    @property
    def file_key(self) -> str: ...  # the top-level key of schema.yaml, e.g. "views"

    def owns(self, item: object) -> bool: ...

    def build(self, context: Context, key: str, spec: Mapping[str, object]) -> KindObject: ...

    def read(
        self, conn: psycopg.Connection[Any], declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]: ...

    def normalize(
        self, run: ScratchRun, declared: Sequence[KindObject]
    ) -> tuple[KindObject, ...]: ...

    def diff(self, live: Sequence[KindObject], desired: Sequence[KindObject]) -> list[Change]: ...

    def dump(
        self, conn: psycopg.Connection[Any], schemas: Sequence[str], only: Sequence[str]
    ) -> dict[str, Any]: ...

    def document(self, live: Sequence[KindObject]) -> dict[str, Any]: ...
