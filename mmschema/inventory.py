"""`-i/--inventory targets.yaml`: run plan, apply or drift on many databases.

Each target runs with its own connection and its own output buffers, in a thread pool of
`--parallel N`; its output is printed in one piece, in inventory order, and a summary table
ends the run. One failing target never stops the others; the exit status is the worst one
(1 error, then 3 refused, then 2 changes or drift, then 0). DSNs are only ever shown as
host:port/dbname and every buffer is scrubbed of the target's password. `plan` reports each
target's pending changes whatever the exit-code flag, and shows targets whose plans are
identical once, together.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mmschema.command_base import ExitStatus, UsageError, load_file
from mmschema.connect import ConnectionFailed, describe, primary_message, scrub
from mmschema.desired.declared import InvalidFile
from mmschema.desired.yamlpos import YamlDocument, YamlError, load_yaml
from mmschema.environment import Environment
from mmschema.plan import Plan, plan_to_json
from mmschema.sources import SourceError

Handler = Callable[[argparse.Namespace, Environment], ExitStatus]
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
TARGET_KEYS = {"dsn", "dsn_env"}
# worst first: an error beats a refusal beats pending changes beats success
SEVERITY = {1: 4, 130: 5, 3: 3, 2: 2, 0: 1}


@dataclass(frozen=True)
class InventoryTarget:
    name: str
    dsn: str | None = None
    dsn_env: str | None = None


@dataclass
class Inventory:
    targets: dict[str, InventoryTarget] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def select(self, limits: list[str] | None) -> list[InventoryTarget]:
        if not limits:
            return list(self.targets.values())
        wanted: set[str] = set()
        for item in limits:
            for name in filter(None, (part.strip() for part in item.split(","))):
                if name in self.targets:
                    wanted.add(name)
                elif name in self.groups:
                    wanted.update(self.groups[name])
                else:
                    known = ", ".join([*self.targets, *self.groups])
                    raise UsageError(f"--limit {name}: no such target or group (known: {known})")
        return [t for name, t in self.targets.items() if name in wanted]


def load_inventory(path: Path, name: str) -> Inventory:
    """Read and check an inventory file; InvalidFile lists every problem as name:line:col."""
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"{name}: cannot read the inventory ({error.strerror})") from None
    try:
        document = load_yaml(text, name)
    except YamlError as error:
        raise InvalidFile([str(error)]) from None
    if document is None:
        raise InvalidFile([f"{name}:1:1: the inventory is empty; it needs `targets:`"])
    return _Checker(name, document).check()


class _Checker:
    def __init__(self, name: str, document: YamlDocument) -> None:
        self.name = name
        self.document = document
        self.errors: list[str] = []

    def error(self, path: tuple[str | int, ...], message: str, key: bool = False) -> None:
        positions = self.document.key_positions if key else self.document.positions
        line, column = positions.get(path) or self.document.positions.get(path) or (1, 1)
        self.errors.append(f"{self.name}:{line}:{column}: {message}")

    def check(self) -> Inventory:
        for duplicate in self.document.duplicates:
            line, column = duplicate.again
            self.errors.append(
                f"{self.name}:{line}:{column}: {duplicate.key!r} is written twice "
                f"(first at line {duplicate.first[0]})"
            )
        root = self.document.value
        inventory = Inventory()
        if not isinstance(root, dict):
            self.error((), "the inventory must be a mapping with `targets:` (and `groups:`)")
            raise InvalidFile(self.errors)
        for key in root:
            if key not in ("targets", "groups"):
                self.error((key,), f"unknown key {key!r} (expected: targets, groups)", key=True)
        targets = root.get("targets")
        if not isinstance(targets, dict) or not targets:
            self.error(
                ("targets",) if "targets" in root else (),
                "`targets` must map names to {dsn_env: VARIABLE} or {dsn: ...}",
            )
        else:
            for target_name, spec in targets.items():
                checked = self.target(str(target_name), spec)
                if checked is not None:
                    inventory.targets[checked.name] = checked
        groups = root.get("groups", {})
        if not isinstance(groups, dict):
            self.error(("groups",), "`groups` must map names to lists of targets")
            groups = {}
        for group_name, members in groups.items():
            path: tuple[str | int, ...] = ("groups", group_name)
            if str(group_name) in inventory.targets:
                self.error(path, f"group {group_name!r} has the name of a target", key=True)
            if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                self.error(path, f"group {group_name!r} must be a list of target names")
                continue
            for i, member in enumerate(members):
                if isinstance(targets, dict) and member not in targets:
                    self.error((*path, i), f"group {group_name!r}: no target named {member!r}")
            inventory.groups[str(group_name)] = list(members)
        if self.errors:
            raise InvalidFile(self.errors)
        return inventory

    def target(self, name: str, spec: object) -> InventoryTarget | None:
        path: tuple[str | int, ...] = ("targets", name)
        if not NAME.match(name):
            self.error(path, f"target name {name!r}: use letters, digits, _ . -", key=True)
        if not isinstance(spec, dict):
            self.error(path, f"target {name!r} must be {{dsn_env: VARIABLE}} or {{dsn: ...}}")
            return None
        for key in spec:
            if key not in TARGET_KEYS:
                self.error(
                    (*path, key),
                    f"target {name!r}: unknown key {key!r} (expected: dsn_env or dsn)",
                    key=True,
                )
        given = [k for k in TARGET_KEYS if k in spec]
        if len(given) != 1:
            self.error(path, f"target {name!r} needs exactly one of dsn_env and dsn")
            return None
        value = spec[given[0]]
        if not isinstance(value, str) or not value.strip():
            self.error((*path, given[0]), f"target {name!r}: {given[0]} must be a string")
            return None
        if given[0] == "dsn":
            return InventoryTarget(name, dsn=value)
        return InventoryTarget(name, dsn_env=value)


@dataclass
class TargetResult:
    target: InventoryTarget
    label: str
    code: int
    stdout: str
    stderr: str
    message: str = ""
    plan: Plan | None = None  # plan only: what the target's plan was


def outcome_of(result: TargetResult, command: str) -> str:
    """What happened on the target; for plan, from its plan whatever the exit-code flag."""
    if result.plan is not None and result.code in (0, 2):
        return "changes pending" if result.plan.changes else "no changes"
    return outcome_word(command, result.code)


def changes_count(plan: Plan) -> str:
    count = len(plan.changes)
    return f"{count} change{'' if count == 1 else 's'}"


def plan_key(plan: Plan) -> str:
    """The same for targets whose plans are identical but for the target's name."""
    document = {k: v for k, v in plan_to_json(plan).items() if k != "target"}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@dataclass
class PlanGroup:
    """Targets whose plans are identical: the plan is shown once, for all of them."""

    results: list[TargetResult]

    @property
    def plan(self) -> Plan | None:
        return self.results[0].plan

    @property
    def names(self) -> list[str]:
        return [r.target.name for r in self.results]


def plan_groups(results: list[TargetResult]) -> list[PlanGroup]:
    """Results in inventory order, those with identical plans together (errors alone)."""
    groups: list[PlanGroup] = []
    by_key: dict[str, PlanGroup] = {}
    for result in results:
        if result.plan is None:
            groups.append(PlanGroup([result]))
            continue
        key = plan_key(result.plan)
        if key in by_key:
            by_key[key].results.append(result)
        else:
            by_key[key] = PlanGroup([result])
            groups.append(by_key[key])
    return groups


def outcome_word(command: str, code: int) -> str:
    if code == 0:
        return {"apply": "converged", "drift": "in sync"}.get(command, "no changes")
    if code == 2:
        return "drift" if command == "drift" else "changes pending"
    if code == 3:
        return "refused"
    if code == 130:
        return "interrupted"
    return "error"


def worst(codes: list[int]) -> int:
    return max(codes, key=lambda c: SEVERITY.get(c, 4), default=0)


def per_target_path(path: str, name: str) -> str:
    p = Path(path)
    return str(p.with_name(f"{p.stem}.{name}{p.suffix}"))


def run_target(
    target: InventoryTarget, args: argparse.Namespace, environment: Environment, handler: Handler
) -> TargetResult:
    stdout, stderr = io.StringIO(), io.StringIO()
    dsn = target.dsn
    if dsn is None:
        dsn = environment.variables().get(target.dsn_env or "")
        if not dsn:
            message = f"environment variable {target.dsn_env} is not set"
            return TargetResult(target, "-", 1, "", f"mmschema: {message}\n", message)
    label = describe(dsn)
    target_args = copy.copy(args)
    target_args.inventory = None
    target_args.database = dsn
    if getattr(args, "out", None):
        target_args.out = per_target_path(args.out, target.name)
    if getattr(args, "planfile", None):
        target_args.planfile = per_target_path(args.planfile, target.name)
    sink: list[Plan] = []
    if args.command == "plan":
        target_args.plan_sink = sink
    target_env = Environment(
        stdout=stdout,
        stderr=stderr,
        stdin=io.StringIO(""),
        env=dict(environment.env),
        cwd=environment.cwd,
        interactive=False,
    )
    message = ""
    try:
        code = int(handler(target_args, target_env))
    except InvalidFile as invalid:
        code, message = 1, "; ".join(invalid.errors)
    except (UsageError, ConnectionFailed, SourceError) as error:
        code, message = 1, str(error)
    except psycopg.Error as error:
        code, message = 1, f"database error: {primary_message(error)}"
    except Exception as error:  # one target's failure must not stop the others
        code, message = 1, f"{type(error).__name__}: {error}".strip()
    message = scrub(message, dsn)
    err_text = scrub(stderr.getvalue(), dsn)
    if message:
        err_text += f"mmschema: {message}\n"
    out_text = scrub(stdout.getvalue(), dsn)
    plan = sink[0] if sink else None
    return TargetResult(target, label, code, out_text, err_text, message, plan)


def run_inventory(args: argparse.Namespace, environment: Environment, handler: Handler) -> int:
    if getattr(args, "database", None):
        raise UsageError("-d/--database and -i/--inventory cannot go together")
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    if getattr(args, "from_source", None):
        raise UsageError("--from plans without a live target; it cannot go with --inventory")
    inventory = load_inventory(environment.cwd / args.inventory, args.inventory)
    selected = inventory.select(args.limit)
    if not selected:
        raise UsageError(f"{args.inventory}: no target selected")
    if args.command == "apply" and not args.yes:
        Console(file=environment.stderr).print(
            "mmschema: apply with --inventory needs --yes (review with: mmschema plan -i ...)",
            markup=False,
        )
        return int(ExitStatus.REFUSED)
    from_plans = bool(getattr(args, "planfile", None)) and args.file is None  # they carry it
    if getattr(args, "revision", None) is None and not from_plans:
        load_file(args)  # an invalid file fails once, before any database is touched
    fmt = getattr(args, "format", None) or "text"
    grouped = args.command == "plan"  # shown once all are planned, identical plans together
    with ThreadPoolExecutor(max_workers=min(args.parallel, len(selected))) as pool:
        futures = [pool.submit(run_target, t, args, environment, handler) for t in selected]
        results = []
        for future in futures:
            result = future.result()
            results.append(result)
            if fmt == "text" and not grouped:
                show_text(result, environment)
    if fmt == "text" and grouped:
        for group in plan_groups(results):
            show_group(group, environment)
    if fmt == "json":
        show_json(results, args.command, environment)
    elif fmt != "text":
        show_concatenated(results, fmt, environment)
    summary_to = environment.stdout if fmt == "text" else environment.stderr
    show_summary(results, args.command, summary_to, environment.is_terminal)
    return worst([r.code for r in results])


def show_text(result: TargetResult, environment: Environment) -> None:
    out = environment.stdout
    out.write(f"=== {result.target.name} ({result.label}) ===\n")
    out.write(result.stdout)
    out.write(result.stderr)
    out.write("\n")


def show_group(group: PlanGroup, environment: Environment) -> None:
    """One target as before; targets with one plan under one header, the plan once."""
    if len(group.results) == 1:
        show_text(group.results[0], environment)
        return
    out = environment.stdout
    first = group.results[0]
    named = ", ".join(f"{r.target.name} ({r.label})" for r in group.results)
    fingerprint = group.plan.fingerprint if group.plan else ""
    count = len(group.results)
    out.write(f"=== {named}: one plan for {count} targets (fingerprint {fingerprint}) ===\n")
    lines = first.stdout.splitlines(keepends=True)
    if lines and lines[0].startswith(f"Plan for {first.label}"):
        lines[0] = f"Plan for {len(group.results)} targets: {', '.join(group.names)}\n"
    out.write("".join(lines))
    for result in group.results:
        for line in result.stderr.splitlines():
            out.write(f"[{result.target.name}] {line}\n")
    out.write("\n")


def show_json(results: list[TargetResult], command: str, environment: Environment) -> None:
    targets = []
    for result in results:
        try:
            output: Any = json.loads(result.stdout) if result.stdout.strip() else None
        except ValueError:
            output = result.stdout
        targets.append(
            {
                "name": result.target.name,
                "target": result.label,
                "exit_code": result.code,
                "outcome": outcome_of(result, command),
                "error": result.message or None,
                "result": output,
            }
        )
        if result.plan is not None:
            targets[-1]["changes"] = len(result.plan.changes)
        for line in result.stderr.splitlines():
            environment.stderr.write(f"[{result.target.name}] {line}\n")
    document = {
        "command": command,
        "exit_code": worst([r.code for r in results]),
        "targets": targets,
    }
    if command == "plan":
        document["plans"] = [
            {
                "fingerprint": group.plan.fingerprint,
                "changes": len(group.plan.changes),
                "targets": group.names,
                "plan": plan_to_json(replace(group.plan, target=", ".join(group.names))),
            }
            for group in plan_groups(results)
            if group.plan is not None
        ]
    environment.stdout.write(json.dumps(document, indent=2) + "\n")


def show_concatenated(results: list[TargetResult], fmt: str, environment: Environment) -> None:
    if fmt == "prometheus":
        environment.stdout.write(merge_prometheus([r.stdout for r in results]))
    else:
        for result in results:
            comment = "--" if fmt == "sql" else "<!--"
            end = "" if fmt == "sql" else " -->"
            environment.stdout.write(f"{comment} target {result.target.name}{end}\n")
            environment.stdout.write(result.stdout)
    for result in results:
        for line in result.stderr.splitlines():
            environment.stderr.write(f"[{result.target.name}] {line}\n")


def merge_prometheus(texts: list[str]) -> str:
    """One exposition: each metric's HELP and TYPE once, then its samples from every target."""
    headers: dict[str, list[str]] = {}
    samples: dict[str, list[str]] = {}
    for text in texts:
        for line in text.splitlines():
            if line.startswith("# "):
                parts = line.split(" ", 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    lines = headers.setdefault(parts[2], [])
                    if not any(h.split(" ", 3)[1] == parts[1] for h in lines):
                        lines.append(line)
                continue
            if line.strip():
                metric = re.split(r"[{\s]", line, maxsplit=1)[0]
                samples.setdefault(metric, []).append(line)
    out: list[str] = []
    for metric in dict.fromkeys([*headers, *samples]):
        out.extend(headers.get(metric, []))
        out.extend(samples.get(metric, []))
    return "\n".join(out) + ("\n" if out else "")


def plan_detail(result: TargetResult, results: list[TargetResult]) -> str:
    """For plan: how many changes, and which targets have the same plan."""
    if result.plan is None:
        return ""
    same = next(g for g in plan_groups(results) if any(r is result for r in g.results))
    others = [n for n in same.names if n != result.target.name]
    return changes_count(result.plan) + (f", same plan as {', '.join(others)}" if others else "")


def show_summary(results: list[TargetResult], command: str, stream: Any, terminal: bool) -> None:
    console = Console(
        file=stream, force_terminal=terminal, no_color=not terminal, highlight=False, width=120
    )
    table = Table(title=f"{command}: {len(results)} targets", title_justify="left")
    table.add_column("TARGET")
    table.add_column("DATABASE")
    table.add_column("OUTCOME")
    table.add_column("EXIT", justify="right")
    table.add_column("DETAIL")
    for result in results:
        table.add_row(
            Text(result.target.name),
            Text(result.label),
            Text(outcome_of(result, command)),
            Text(str(result.code)),
            Text(result.message[:100] or plan_detail(result, results)),
        )
    console.print(table)
