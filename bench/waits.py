"""A sampler of the writers' waits during a benchmark phase: what each long write waited
for (wait event, the sessions blocking it and what they ran), read from pg_stat_activity."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

INTERVAL_S = 0.01
SHOWN_FROM_MS = 40.0  # writes waiting longer than this are recorded

QUERY = """
SELECT w.pid, w.query_start, extract(epoch FROM clock_timestamp() - w.query_start) * 1000,
       coalesce(w.wait_event_type || ':' || w.wait_event, 'cpu'), left(w.query, 50),
       (SELECT string_agg(coalesce(b.application_name, '?') || ' '
                          || coalesce(b.wait_event, 'cpu') || ' ['
                          || left(regexp_replace(b.query, '\\s+', ' ', 'g'), 70) || ']', '; ')
        FROM pg_stat_activity b WHERE b.pid = ANY(pg_blocking_pids(w.pid)))
FROM pg_stat_activity w
WHERE w.application_name = 'bench-writer' AND w.state = 'active'
  AND clock_timestamp() - w.query_start > make_interval(secs => %s / 1000.0)
"""


@dataclass
class Wait:
    milliseconds: float
    event: str
    query: str
    blockers: str


@dataclass
class WaitSampler:
    """Samples every INTERVAL_S on its own connection; keeps each write's longest view."""

    dsn: str
    waits: dict[tuple[int, Any], Wait] = field(default_factory=dict)
    samples: int = 0
    gap: float = 0.0  # the longest time between two samples (the sampler stalled too)
    gap_at: float = 0.0  # perf_counter() when that gap began
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True, application_name="bench-sampler") as conn:
            previous = time.perf_counter()
            while not self.stop.is_set():
                now = time.perf_counter()
                if now - previous > self.gap:
                    self.gap, self.gap_at = now - previous, previous
                previous = now
                for pid, started, ms, event, query, blockers in conn.execute(
                    QUERY, (SHOWN_FROM_MS,)
                ).fetchall():
                    key = (pid, started)
                    seen = self.waits.get(key)
                    # the event seen last before the write ends names what it waited for
                    if seen is None or ms >= seen.milliseconds:
                        kept = blockers or (seen.blockers if seen else "")
                        self.waits[key] = Wait(float(ms), event, query, kept or "")
                self.samples += 1
                time.sleep(INTERVAL_S)

    def longest(self, count: int = 5) -> list[Wait]:
        return sorted(self.waits.values(), key=lambda w: -w.milliseconds)[:count]
