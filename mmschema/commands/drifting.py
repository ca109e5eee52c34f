"""`mmschema drift`: plan against the target, then report drift and the last apply."""

from __future__ import annotations

import argparse

from mmschema import history as runlog
from mmschema.command_base import ExitStatus, load_file, print_json, target_for
from mmschema.commands.common import consoles, make_plan, output_format, show_plan
from mmschema.connect import connect
from mmschema.drift import DriftReport, last_apply, show_extra, unmanaged_tables
from mmschema.environment import Environment


def drift(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    desired = load_file(args)
    out, err = consoles(environment)
    target = target_for(args, environment, err)
    file_checksum = runlog.checksum(desired.text)
    with connect(target.dsn) as conn:
        planned = make_plan(args, environment, desired, conn, target, err)
        report = DriftReport(planned.plan, file_checksum, last_apply(conn, file_checksum))
        if getattr(args, "all", False):
            report.checked_all = True
            report.unmanaged_tables = unmanaged_tables(conn, desired)
    sink = getattr(args, "plan_sink", None)  # an inventory groups targets by their plans
    if sink is not None:
        sink.append(planned.plan)
    fmt = output_format(args, environment)
    if fmt == "json":
        print_json(report.to_json(), environment)
    elif fmt == "prometheus":
        from mmschema.render.prometheus import render_prometheus

        environment.stdout.write(render_prometheus(report))
    else:
        show_plan(planned.plan, fmt, out, environment, desired.settings)
        # sql and markdown keep stdout a clean document; the rest goes to stderr
        show_extra(report, out if fmt == "text" else err)
    return ExitStatus.CHANGES if report.drifted else ExitStatus.OK
