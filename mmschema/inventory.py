"""`-i/--inventory targets.yaml`: run plan, apply or drift on many databases.

Each target runs in its own forked worker process (at most `--parallel N` at once, each
stopped after `--target-timeout` seconds), with its own connection and output buffers; its
output is printed in one piece, in inventory order, and a summary table ends the run. One
failing, hanging or unreachable target never stops the others; the exit status is the
worst one (1 error, then 3 refused, then 2 changes or drift, then 0). DSNs are only ever
shown as host:port/dbname and every buffer is scrubbed of the target's password. `plan`
and `drift` report each target's pending changes whatever the exit-code flag, and show
targets whose plans are identical once, together (grouped by fingerprint).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import re
from collections.abc import Callable
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
from mmschema.forked import Finished, run_forked
from mmschema.plan import Plan, plan_to_json
from mmschema.prefork import warm_up
from mmschema.readguard import ReadStopped
from mmschema.render.prometheus import label_value
from mmschema.sources import SourceError
from mmschema.words import count

Handler = Callable[[argparse.Namespace, Environment], ExitStatus]
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
TARGET_KEYS = {"dsn", "dsn_env"}
# worst first: an error beats a refusal beats pending changes beats success
SEVERITY = {1: 4, 130: 5, 3: 3, 2: 2, 0: 1}
GROUPED = ("plan", "drift")  # commands whose targets are grouped by their plans
# Each worker is a process holding a connection to its target and one to the scratch server.
MAX_PARALLEL = 64


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
    plan: Plan | None = None  # plan and drift: what the target's plan was
    seconds: float = 0.0
    timed_out: bool = False


def outcome_of(result: TargetResult, command: str) -> str:
    """What happened on the target; for plan, from its plan whatever the exit-code flag."""
    if command == "plan" and result.plan is not None and result.code in (0, 2):
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


def target_dsn(target: InventoryTarget, environment: Environment) -> str | None:
    if target.dsn is not None:
        return target.dsn
    return environment.variables().get(target.dsn_env or "") or None


def finished_result(
    target: InventoryTarget, environment: Environment, finished: Finished[TargetResult]
) -> TargetResult:
    """The target's result from its worker, or an error saying why the worker gave none."""
    result = finished.value
    if result is None:
        dsn = target_dsn(target, environment)
        message = finished.failure or "no result"
        code = 130 if "interrupted" in message else 1
        result = TargetResult(target, describe(dsn) if dsn else "-", code, "", "", message)
        result.stderr = f"mmschema: {message}\n"
    elif finished.timed_out:  # an apply that stopped on SIGTERM still says what it did
        result.code, result.message = 1, finished.failure or "timed out"
        result.stderr += f"mmschema: {result.message}\n"
    result.seconds = round(finished.seconds, 3)
    result.timed_out = finished.timed_out
    return result


def run_target(
    target: InventoryTarget, args: argparse.Namespace, environment: Environment, handler: Handler
) -> TargetResult:
    stdout, stderr = io.StringIO(), io.StringIO()
    dsn = target_dsn(target, environment)
    if dsn is None:
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
    if args.command in GROUPED:
        target_args.plan_sink = sink
    if args.format == "prometheus" and args.command != "drift":
        target_args.format = "json"  # the inventory writes the per-target metrics
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
    except (UsageError, ConnectionFailed, SourceError, ReadStopped) as error:
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
    if not 1 <= args.parallel <= MAX_PARALLEL:
        raise UsageError(f"--parallel must be between 1 and {MAX_PARALLEL}")
    if args.target_timeout is not None and args.target_timeout <= 0:
        raise UsageError("--target-timeout must be a number of seconds above 0")
    if getattr(args, "from_source", None):
        raise UsageError("--from plans without a live target; it cannot go with --inventory")
    inventory = load_inventory(environment.cwd / args.inventory, args.inventory)
    selected = inventory.select(args.limit)
    if not selected:
        raise UsageError(f"{args.inventory}: no target selected")
    if args.command == "apply" and not args.yes:
        Console(file=environment.stderr, emoji=False).print(
            "mmschema: apply with --inventory needs --yes (review with: mmschema plan -i ...)",
            markup=False,
        )
        return int(ExitStatus.REFUSED)
    from_plans = bool(getattr(args, "planfile", None)) and args.file is None  # they carry it
    if getattr(args, "revision", None) is None and not from_plans:
        # An invalid file fails once, before any database is touched; a valid one is loaded
        # here once, and every target's worker starts with it (and the catalog statements).
        args.loaded_file = load_file(args)
    warm_up()
    fmt = getattr(args, "format", None) or "text"
    grouped = args.command in GROUPED  # shown once all are done, identical plans together
    results: list[TargetResult | None] = [None] * len(selected)
    shown = 0

    def done(index: int, finished: Finished[TargetResult]) -> None:
        nonlocal shown
        results[index] = finished_result(selected[index], environment, finished)
        while shown < len(results) and (ready := results[shown]) is not None:
            if fmt == "text" and not grouped:
                show_text(ready, environment)
            shown += 1

    run_forked(
        selected,
        lambda target: run_target(target, args, environment, handler),
        args.parallel,
        args.target_timeout,
        done,
    )
    finished = [r for r in results if r is not None]
    if fmt == "text" and grouped:
        for group in plan_groups(finished):
            show_group(group, environment)
    if fmt == "json":
        show_json(finished, args.command, environment)
    elif fmt == "prometheus":
        show_prometheus(finished, args.command, environment)
    elif fmt != "text":
        show_concatenated(finished, fmt, environment)
    summary_to = environment.stdout if fmt == "text" else environment.stderr
    show_summary(finished, args.command, summary_to, environment.is_terminal)
    if grouped:
        show_groups(finished, args.command, summary_to, environment.is_terminal)
    return worst([r.code for r in finished])


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
    if len(group.results) <= NAMED_WITH_LABELS:
        named = ", ".join(f"{r.target.name} ({r.label})" for r in group.results)
    else:
        named = ", ".join(group.names)
    fingerprint = group.plan.fingerprint if group.plan else ""
    count = len(group.results)
    out.write(f"=== {named}: one plan for {count} targets (fingerprint {fingerprint}) ===\n")
    lines, _ = split_extra(first.stdout)
    if lines and lines[0].startswith(f"Plan for {first.label}"):
        lines[0] = f"Plan for {len(group.results)} targets: {', '.join(group.names)}\n"
    out.write("".join(lines))
    said: dict[str, list[str]] = {}  # a line about targets (last apply, errors): who said it
    for result in group.results:
        _, extra = split_extra(result.stdout)
        for line in [*extra, *result.stderr.splitlines(keepends=True)]:
            if not line.startswith("Drift: "):
                said.setdefault(line.rstrip(), []).append(result.target.name)
    for line, names in said.items():
        out.write(f"[{', '.join(names)}] {line}\n")
    verdicts = {line for r in group.results for line in split_extra(r.stdout)[1]}
    out.write("".join(sorted(v for v in verdicts if v.startswith("Drift: "))))
    out.write("\n")


# Lines that drift prints after the plan, about each target alone (not the group's plan).
TARGET_LINES = ("  unmanaged table ", "Unmanaged tables: ", "Last apply: ", "Drift: ")
NAMED_WITH_LABELS = 8  # a larger group's header names its targets without their databases


def split_extra(text: str) -> tuple[list[str], list[str]]:
    """A target's text output: the plan, and drift's lines about the target itself."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(TARGET_LINES):
            return lines[:i], lines[i:]
    return lines, []


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
                "seconds": result.seconds,
                "timed_out": result.timed_out,
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
    if command in GROUPED:
        document["plans"] = [
            {
                "fingerprint": group.plan.fingerprint,
                "changes": len(group.plan.changes),
                "outcome": outcome_of(group.results[0], command),
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


def show_prometheus(results: list[TargetResult], command: str, environment: Environment) -> None:
    """drift's own metrics of every target (labelled with its name too), then per target
    its exit code, changes, seconds and whether it answered, for any command."""
    texts = [with_name_label(r.stdout, r.target.name) for r in results if command == "drift"]
    texts.append(target_metrics(results, command))
    environment.stdout.write(merge_prometheus(texts))
    for result in results:
        for line in result.stderr.splitlines():
            environment.stderr.write(f"[{result.target.name}] {line}\n")


def with_name_label(text: str, name: str) -> str:
    label = f'name="{label_value(name)}"'
    return re.sub(r"^(mmschema_\w+)\{", rf"\1{{{label},", text, flags=re.MULTILINE)


def target_metrics(results: list[TargetResult], command: str) -> str:
    metrics = {
        "mmschema_target_exit_code": "the target's exit code (0 ok, 1 error, 2 changes, 3 refused)",
        "mmschema_target_up": "1 if the command ran to its end on the target (not an error)",
        "mmschema_target_changes": "changes pending (plan, drift) on the target",
        "mmschema_target_seconds": "how long the target took",
    }
    lines: list[str] = []
    for metric, help_text in metrics.items():
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        for result in results:
            labels = (
                f'{{name="{label_value(result.target.name)}",'
                f'target="{label_value(result.label)}",command="{command}"}}'
            )
            if metric == "mmschema_target_exit_code":
                lines.append(f"{metric}{labels} {result.code}")
            elif metric == "mmschema_target_up":
                lines.append(f"{metric}{labels} {int(result.code in (0, 2, 3))}")
            elif metric == "mmschema_target_changes" and result.plan is not None:
                lines.append(f"{metric}{labels} {len(result.plan.changes)}")
            elif metric == "mmschema_target_seconds":
                lines.append(f"{metric}{labels} {result.seconds}")
    return "\n".join(lines) + "\n"


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


def plan_detail(result: TargetResult, groups: list[PlanGroup]) -> str:
    """For plan: how many changes, and which targets have the same plan."""
    if result.plan is None:
        return ""
    same = next(g for g in groups if any(r is result for r in g.results))
    others = [n for n in same.names if n != result.target.name]
    if len(others) > NAMED_WITH_LABELS:
        return f"{changes_count(result.plan)}, same plan as {len(others)} others"
    return changes_count(result.plan) + (f", same plan as {', '.join(others)}" if others else "")


def report_console(stream: Any, terminal: bool) -> Console:
    """The console of the per-target tables: colour only on a terminal, 120 columns."""
    return Console(
        file=stream,
        force_terminal=terminal,
        no_color=not terminal,
        highlight=False,
        width=120,
        emoji=False,
    )


def show_groups(results: list[TargetResult], command: str, stream: Any, terminal: bool) -> None:
    """One line per distinct plan: its fingerprint, outcome, changes and targets."""
    groups = [g for g in plan_groups(results) if g.plan is not None]
    console = report_console(stream, terminal)
    plans, targets = count(len(groups), "distinct plan"), count(len(results), "target")
    table = Table(
        title=f"{command}: {plans} for {targets}",
        title_justify="left",
    )
    table.add_column("FINGERPRINT")
    table.add_column("OUTCOME")
    table.add_column("CHANGES", justify="right")
    table.add_column("TARGETS", justify="right")
    table.add_column("NAMES")
    for group in sorted(groups, key=lambda g: -len(g.results)):
        plan = group.plan
        assert plan is not None
        names = ", ".join(group.names)
        table.add_row(
            Text(plan.fingerprint),
            Text(outcome_of(group.results[0], command)),
            Text(str(len(plan.changes))),
            Text(str(len(group.results))),
            Text(names if len(names) <= 80 else names[:77] + "..."),
        )
    console.print(table)


def show_summary(results: list[TargetResult], command: str, stream: Any, terminal: bool) -> None:
    console = report_console(stream, terminal)
    table = Table(title=f"{command}: {len(results)} targets", title_justify="left")
    table.add_column("TARGET")
    table.add_column("DATABASE")
    table.add_column("OUTCOME")
    table.add_column("EXIT", justify="right")
    table.add_column("DETAIL")
    table.add_column("SECONDS", justify="right")
    groups = plan_groups(results)
    for result in results:
        table.add_row(
            Text(result.target.name),
            Text(result.label),
            Text(outcome_of(result, command)),
            Text(str(result.code)),
            Text(result.message[:100] or plan_detail(result, groups)),
            Text(f"{result.seconds:.1f}"),
        )
    console.print(table)
