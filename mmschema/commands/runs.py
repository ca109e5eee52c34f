"""The history command: past applies and the file each one applied."""

from __future__ import annotations

import argparse
from typing import Any

import psycopg
from rich.console import Console

from mmschema import history as runlog
from mmschema.command_base import ExitStatus, target_for
from mmschema.commands.common import (
    consoles,
)
from mmschema.connect import connect
from mmschema.environment import Environment
from mmschema.readguard import bounded_reads


def history(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    """List earlier apply runs, or show one run's statements and file (--show N)."""
    out, err = consoles(environment)
    target = target_for(args, environment, err)
    with (
        connect(target.dsn) as conn,
        bounded_reads(conn, environment.env, "history", target.label),
    ):
        recorded = runlog.exists(conn)
        if args.show is not None:
            if not recorded:
                err.print(f"mmschema: no run {args.show}: no runs yet", markup=False)
                return ExitStatus.ERROR
            return _show_run(conn, args.show, out, err)
        runs = runlog.list_runs(conn) if recorded else []
    if not runs:
        out.print(
            f"no runs yet: nothing has been applied to {target.label}",
            highlight=False,
            markup=False,
        )
        return ExitStatus.OK
    out.print(
        f"{'ID':>5}  {'STARTED':<19}  {'DURATION':>9}  {'USER':<12}  {'OUTCOME':<11}  "
        f"{'STMTS':>5}  CHECKSUM",
        highlight=False,
        markup=False,
    )
    for run in runs:
        duration = (
            f"{(run.finished_at - run.started_at).total_seconds():.1f}s" if run.finished_at else "-"
        )
        out.print(
            f"{run.id:>5}  {run.started_at:%Y-%m-%d %H:%M:%S}  {duration:>9}  "
            f"{run.db_user:<12}  {run.outcome:<11}  {run.statements:>5}  "
            f"{run.file_checksum[:12]}",
            highlight=False,
            markup=False,
        )
    return ExitStatus.OK


def _show_run(conn: psycopg.Connection[Any], run_id: int, out: Console, err: Console) -> ExitStatus:
    file_text = runlog.run_file(conn, run_id)
    if file_text is None:
        err.print(f"mmschema: no run {run_id} in the history", markup=False)
        return ExitStatus.ERROR
    run = runlog.get_run(conn, run_id)
    if run is not None:
        out.print(
            f"run {run.id}: {run.outcome}, started {run.started_at:%Y-%m-%d %H:%M:%S %Z} by "
            f"{run.db_user} from {run.client_addr or 'local'}, mmschema {run.mmschema_version}",
            highlight=False,
            markup=False,
        )
        if run.message:
            out.print(f"message: {run.message}", highlight=False, markup=False)
    out.print("\nstatements:", highlight=False, markup=False)
    for row in runlog.run_statements(conn, run_id):
        took = f"{row.duration_ms:.0f} ms" if row.duration_ms is not None else "-"
        out.print(
            f"  {row.position:>3}. {row.outcome:<11} {took:>9}  [{row.change_kind}] "
            f"{row.change_object}",
            highlight=False,
            markup=False,
        )
        out.print(f"       {row.sql};", highlight=False, markup=False)
        if row.error:
            out.print(f"       error: {row.error}", highlight=False, markup=False)
    checksum = run.file_checksum if run else runlog.checksum(file_text)
    out.print(f"\nfile (sha256 {checksum}):", highlight=False, markup=False)
    out.print(file_text, highlight=False, markup=False)
    return ExitStatus.OK
