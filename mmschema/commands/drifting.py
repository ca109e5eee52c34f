"""`mmschema drift`: plan against the target, then report drift and the last apply."""

from __future__ import annotations

import argparse
from typing import Any

import psycopg
from rich.console import Console

from mmschema import history as runlog
from mmschema.command_base import ExitStatus, load_file, print_json, target_for
from mmschema.commands.common import cold_read, consoles, make_plan, output_format, show_plan
from mmschema.connect import Target, connect
from mmschema.desired.declared import DesiredState
from mmschema.drift import DriftReport, last_apply, show_extra, unmanaged_tables
from mmschema.early_read import CatalogAhead
from mmschema.environment import Environment
from mmschema.kinds.tables.inheritance import InheritanceRefusal
from mmschema.model import Catalog
from mmschema.plan import Plan
from mmschema.readguard import bounded_reads


def drift(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    cold = cold_read(args, environment, "drift")
    try:
        desired = load_file(args)
    except BaseException:
        if cold is not None:
            cold.close()
        raise
    out, err = consoles(environment)
    target = target_for(args, environment, err)
    read_ahead = cold.connection(target.dsn) if cold is not None else None
    ahead = cold if read_ahead is not None else None
    fmt = output_format(args, environment)
    try:
        report, plan, refused = _read(args, environment, err, desired, target, read_ahead, ahead)
    except Exception:
        if fmt == "prometheus" and getattr(args, "plan_sink", None) is None:
            from mmschema.render.prometheus import render_down

            environment.stdout.write(render_down(target.label))  # monitoring sees it down
        raise
    sink = getattr(args, "plan_sink", None)  # an inventory groups targets by their plans
    if sink is not None:
        sink.append(plan)
    if fmt == "json":
        print_json(report.to_json(), environment)
    elif fmt == "prometheus":
        from mmschema.render.prometheus import render_prometheus

        environment.stdout.write(render_prometheus(report))
    else:
        if not refused:
            show_plan(plan, fmt, out, environment, desired.settings)
        # sql and markdown keep stdout a clean document; the rest goes to stderr
        show_extra(report, out if fmt == "text" else err)
    return ExitStatus.CHANGES if report.drifted else ExitStatus.OK


def _read(
    args: argparse.Namespace,
    environment: Environment,
    err: Console,
    desired: DesiredState,
    target: Target,
    read_ahead: psycopg.Connection[Any] | None,
    ahead: CatalogAhead | None,
) -> tuple[DriftReport, Plan, list[str]]:
    """The drift report of the target: its plan, refusals and last apply."""
    file_checksum = runlog.checksum(desired.text)
    with (
        read_ahead or connect(target.dsn) as conn,
        bounded_reads(conn, environment.env, "drift", target.label),
    ):
        applied = last_apply(conn, file_checksum)
        try:
            plan = make_plan(args, environment, desired, conn, target, err, ahead).plan
            refused: list[str] = []
        except InheritanceRefusal as refusal:
            # what the database holds makes every plan refused: drift found something
            plan, refused = Plan(target.label, Catalog()), refusal.errors
        report = DriftReport(plan, file_checksum, applied, refused=refused)
        if getattr(args, "all", False):
            report.checked_all = True
            listed = set(plan.unmanaged)  # the managed schemas' are the plan's
            found = unmanaged_tables(conn, desired)
            report.unmanaged_tables = [t for t in found if f"table {t}" not in listed]
    return report, plan, refused
