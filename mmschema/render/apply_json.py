"""`apply --format json`: the Ansible-like lines and recap as one JSON document on stdout.

While it runs, everything apply would print on stdout goes to stderr; the outcomes are
collected through a context variable (one per thread, so inventory runs do not mix).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from mmschema.apply import ChangeOutcome, Reporter
from mmschema.connect import scrub
from mmschema.environment import Environment
from mmschema.plan import Plan

APPLY_JSON_VERSION = 1
STATUS_WORDS = {0: "converged", 1: "error", 3: "refused", 130: "interrupted"}


@dataclass
class Collector:
    plan: Plan | None = None
    outcomes: list[ChangeOutcome] = field(default_factory=list)


_current: ContextVar[Collector | None] = ContextVar("mmschema_apply_json", default=None)


def note_plan(plan: Plan) -> None:
    collector = _current.get()
    if collector is not None and collector.plan is None:
        collector.plan = plan


def recording(report: Reporter) -> Reporter:
    """The reporter, also collecting each outcome when a JSON apply is running."""

    def both(outcome: ChangeOutcome) -> None:
        report(outcome)
        collector = _current.get()
        if collector is not None:
            collector.outcomes.append(outcome)

    return both


def document(collector: Collector, code: int, error: str | None) -> dict[str, Any]:
    done = {(o.change.kind, o.change.object): o for o in collector.outcomes}
    changes: list[dict[str, Any]] = []
    planned = collector.plan.changes if collector.plan else []
    for change in planned:
        outcome = done.pop((change.kind, change.object), None)
        changes.append(
            {
                "status": outcome.status if outcome else "skipped",
                "kind": change.kind,
                "object": change.object,
                "seconds": round(outcome.seconds, 3) if outcome else 0.0,
                "error": outcome.error if outcome else None,
                "hazards": [{"kind": h.kind, "detail": h.detail} for h in change.hazards],
            }
        )
    for outcome in done.values():  # outcomes of changes outside the plan (should not happen)
        changes.append(
            {
                "status": outcome.status,
                "kind": outcome.change.kind,
                "object": outcome.change.object,
                "seconds": round(outcome.seconds, 3),
                "error": outcome.error,
                "hazards": [],
            }
        )

    def count(status: str) -> int:
        return sum(1 for c in changes if c["status"] == status)

    return {
        "version": APPLY_JSON_VERSION,
        "target": collector.plan.target if collector.plan else None,
        "exit_code": code,
        "status": STATUS_WORDS.get(code, "error"),
        "converged": code == 0,
        "error": error,
        "changes": changes,
        "recap": {
            "ok": count("changed"),  # as in an Ansible recap: changed ones are ok too
            "changed": count("changed"),
            "failed": count("failed"),
            "skipped": count("skipped"),
        },
    }


def apply_as_json(
    args: argparse.Namespace,
    environment: Environment,
    run: Callable[[argparse.Namespace, Environment], Any],
) -> Any:
    """Run apply with stdout sent to stderr, then print the JSON document on stdout."""
    collector = Collector()
    token = _current.set(collector)
    quiet = replace(environment, stdout=environment.stderr, interactive=environment.is_terminal)
    try:
        status = run(args, quiet)
    except BaseException as error:
        message = scrub(str(error).strip() or type(error).__name__, args.database or "")
        code = 130 if isinstance(error, KeyboardInterrupt) else 1
        _print(environment, document(collector, code, message))
        raise
    finally:
        _current.reset(token)
    _print(environment, document(collector, int(status), None))
    return status


def _print(environment: Environment, data: dict[str, Any]) -> None:
    environment.stdout.write(json.dumps(data, indent=2) + "\n")
