"""How big a table is, as the planner estimates it, and when that makes a change long."""

from __future__ import annotations

from dataclasses import dataclass

LONG_RUNNING_BYTES = 1 << 30
LONG_RUNNING_ROWS = 10_000_000


@dataclass(frozen=True)
class TableSize:
    rows: int  # reltuples, the planner's estimate (-1 before the first ANALYZE on PG 14+)
    bytes: int  # pg_total_relation_size: heap, indexes and TOAST
    has_rows: bool

    @property
    def large(self) -> bool:
        return self.bytes > LONG_RUNNING_BYTES or self.rows > LONG_RUNNING_ROWS

    def describe(self) -> str:
        return f"~{max(self.rows, 0):,} rows, {self.bytes / (1 << 20):,.0f} MB"
