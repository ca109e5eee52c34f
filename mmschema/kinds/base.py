"""The small protocols the object kinds implement (Kind; CatalogKind for the table family)
and the objects they trade in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import psycopg

    from mmschema.changes import Change
    from mmschema.desired.build import Context
    from mmschema.desired.declared import DeclaredTable, DesiredState
    from mmschema.kinds.tables.model import Table
    from mmschema.kinds.tables.read import Meanwhile, TablesRead
    from mmschema.model import Catalog, QualifiedName
    from mmschema.scratch_chunks import ScratchRun
    from mmschema.snapshot_helper import SnapshotHelper


@dataclass(frozen=True)
class ScratchStep:
    """One statement for the scratch server, with the declaration it comes from."""

    statement: str
    source: str  # "path:line:column: what" prefix for errors
    table: QualifiedName | None = None
    optional: bool = False  # a failure is skipped: what depends on it reports the error
    # Made by mmschema from names alone (CREATE EXTENSION): runs as the session's own user,
    # not confined like the statements that carry the file's (or the target's) SQL text.
    privileged: bool = False


class Phase(IntEnum):
    """Order in which changes run; within a phase, changes keep the diff's order."""

    EXTENSIONS = 0
    SCHEMAS = 1
    ENUMS = 2  # created or extended before any table uses them
    SEQUENCES = 3  # `sequences:` created or altered, before the defaults that call them
    DROP_UNMANAGED = 4  # --prune: undeclared views and triggers on managed tables
    FUNCTIONS = 5  # functions the tables' defaults, checks, indexes or generated columns call
    RENAME_TABLES = 6
    UNLINK_TABLES = 7  # foreign keys to tables about to be re-created
    FREE_NAMES = 8  # tables dropped early: a name they hold is taken by something created
    CREATE_TABLES = 9
    DETACH_PARTITIONS = 10
    RENAME_COLUMNS = 11
    DROP_FOREIGN_KEYS = 12
    DROP_INDEXES = 13
    DROP_CONSTRAINTS = 14
    ADD_COLUMNS = 15
    ALTER_COLUMNS = 16
    BUILD_INDEXES = 17
    ADD_CONSTRAINTS = 18
    # A new partitioned table's indexes: after its partitions' own keys and unique
    # constraints, whose indexes CREATE INDEX on the parent then takes as its parts.
    PARENT_INDEXES = 19
    ADD_FOREIGN_KEYS = 20
    VALIDATE_CONSTRAINTS = 21
    ATTACH_PARTITIONS = 22  # once the table has what its parent requires
    SEQUENCE_OWNERS = 23  # OWNED BY, once the owning columns are there
    COMMENTS = 24
    LATE_FUNCTIONS = 25  # routines reading tables, or called by none: after the tables
    VIEWS = 26  # after the tables and columns they read, before those are dropped
    # Row level security switched on once the table's policies exist (made with VIEWS):
    # never a moment where the policies' roles see no rows.
    ROW_SECURITY = 27
    DROP_COLUMNS = 28
    DROP_TABLES = 29
    DROP_SEQUENCES = 30  # after the defaults calling them and the tables owning them
    DROP_FUNCTIONS = 31  # after what called them is gone, before the types they use
    DROP_TYPES = 32  # after the columns and tables that may have used them
    DROP_SCHEMAS = 33  # `schemas:` marked absent: after everything they held


class KindChange:
    """A change that a kind module (mmschema/kinds/) defines: it names its kind and object."""

    @property
    def phase(self) -> Phase:
        raise NotImplementedError  # a class attribute, a dataclass field or a property

    @property
    def kind_name(self) -> str:
        raise NotImplementedError

    @property
    def subject(self) -> str:
        raise NotImplementedError


class KindObject(Protocol):
    """One object of a kind, declared or live: equal when PostgreSQL would print it the same."""

    @property
    def key(self) -> str: ...

    @property
    def state(self) -> str: ...  # "present" | "absent" (live objects are always present)


@dataclass(frozen=True)
class Unmanaged:
    """A live object that depends on a managed table but that the file does not declare:
    plan and drift list it (drift then exits 2), `--prune` runs `drop`."""

    key: str  # as the kind keys its declared objects: one the file declares is not listed
    label: str  # as plan and drift list it, e.g. "view reports.order_ids"
    drop: Change  # its kind's drop, with a destructive hazard; phased before what it blocks
    # A view or materialized view: not made again around a type change of a column it reads.
    relation: QualifiedName | None = None
    depth: int = 0  # dropped before those of smaller depth (a view before the views it reads)


@dataclass
class Arrangement:
    """The diff being put in order: the table family's changes (already arranged), the
    other kinds' changes, and the live objects the file does not declare (listed by plan and
    drift, dropped by --prune)."""

    tables: list[Change]
    objects: list[Change]
    unmanaged: tuple[Unmanaged, ...]


class ArrangedWithTables(Protocol):
    """A kind whose changes depend on the table family's (a policy or trigger on a renamed
    table, a schema the tables' side would create too): its ordering hook."""

    def arranged(self, arrangement: Arrangement) -> Arrangement: ...


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

    def unmanaged(
        self, conn: psycopg.Connection[Any], live: Catalog, declared: Sequence[KindObject]
    ) -> list[Unmanaged]:
        """This kind's live objects that depend on the managed tables (`live.tables`, read
        before) but that the plan neither manages nor drops anyway (`declared`: this kind's
        objects in the file; the pipeline leaves out those keys itself); read only, in the
        order --prune drops them (an object before those it depends on)."""
        ...


class CalledByTables(Protocol):
    """A kind whose objects the tables' expressions may call (functions): made on the
    scratch server before the file's tables, so that those can be normalized."""

    def scratch_preamble(self, declared: Sequence[KindObject]) -> list[ScratchStep]: ...


class MadeBeforeTables(Protocol):
    """A kind of types the tables' columns may use (domains, composite and range types):
    made on the scratch server after the enums and before the file's tables."""

    def declared_steps(self, declared: Sequence[KindObject]) -> list[ScratchStep]: ...


class CatalogKind(Protocol):
    """The table family: its objects are the Catalog's `tables`, so each step takes the
    whole catalog (tables are read in its snapshot, normalized by shape in chunks, compared
    with the file's renames and --prune), and its changes need others around them."""

    @property
    def file_key(self) -> str: ...

    def build(self, context: Context, key: str, spec: dict[str, object]) -> DeclaredTable: ...

    def managed_names(self, declared: DesiredState) -> list[QualifiedName]: ...

    def read(
        self,
        conn: psycopg.Connection[Any],
        names: Sequence[QualifiedName],
        helper: SnapshotHelper | None = None,
        meanwhile: Meanwhile | None = None,
    ) -> TablesRead: ...

    def scratch_steps(self, declared: DesiredState) -> list[ScratchStep]: ...

    def live_steps(self, live: Catalog) -> list[ScratchStep]: ...

    def links(self, declared: DesiredState) -> list[tuple[QualifiedName, QualifiedName]]:
        """Declared tables the scratch server must make in the same chunk."""
        ...

    def as_declared(
        self, printed: dict[QualifiedName, Table], declared: DesiredState, live: Catalog
    ) -> dict[QualifiedName, Table]: ...

    def as_live(self, live: Catalog, reprinted: Catalog) -> dict[QualifiedName, Table]:
        """The live tables as another major's scratch server `reprinted` them."""
        ...

    def diff(
        self,
        live: Catalog,
        desired: Catalog,
        declared: DesiredState,
        prune: bool,
        new_schemas: set[str],
    ) -> tuple[list[Change], list[str]]:
        """The changes that make the live tables the desired ones, and the labels of what
        the file does not manage; `new_schemas`: the schemas the plan creates so far (the
        kind adds those it creates)."""
        ...

    def arranged(self, live: Catalog, desired: Catalog, changes: list[Change]) -> list[Change]:
        """The ordering hook: the plan's changes (of every kind) with what this kind's
        changes need dropped and made again around them."""
        ...

    def needs_dependents(self, changes: list[Change]) -> bool:
        """Whether the diff must be made again with the tables' dependents read."""
        ...

    def without_work_in_flight(self, live: Catalog) -> Catalog:
        """The live catalog as the diff compares it: an apply's unfinished work (an online
        type change's shadow column) hidden; the same object when there is none."""
        ...

    def completed(
        self,
        conn: psycopg.Connection[Any],
        live: Catalog,
        declared: DesiredState,
        changes: list[Change],
        in_flight: bool,
    ) -> list[Change]:
        """The plan's changes completed with what only the target tells (read only);
        `in_flight`: the live catalog had unfinished work hidden."""
        ...

    def document(
        self, catalog: Catalog, conn: psycopg.Connection[Any] | None = None
    ) -> dict[str, Any]: ...
