"""Commands that read: validate, schema, plan, dump, import."""

from __future__ import annotations

import argparse
import json

from rich.console import Console

from mmschema.command_base import (
    ExitStatus,
    UsageError,
    file_name,
    in_workdir,
    keep_table_names,
    kept_table_names,
    load_file,
    parse_kinds,
    print_json,
    target_for,
)
from mmschema.commands.common import (
    cache_for,
    cold_read,
    consoles,
    make_plan,
    output_format,
    scratch_for,
    show_plan,
)
from mmschema.connect import connect
from mmschema.desired.declared import DesiredState
from mmschema.diff import managed_names
from mmschema.early_read import early_read
from mmschema.environment import Environment
from mmschema.kinds.grants import FILE_KEY as GRANTS_KEY
from mmschema.kinds.grants import declared_counts
from mmschema.pipeline.kinds import KINDS, of_kind
from mmschema.planner import Planned, compute_plan
from mmschema.readguard import bounded_reads
from mmschema.words import count, singular


def validate(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    desired = load_file(args)
    _, err = consoles(environment)
    counted = [count(len(desired.present_tables()), "table")]
    if desired.present_enums():
        counted.append(count(len(desired.present_enums()), "enum"))
    absent = len(desired.tables) - len(desired.present_tables())
    absent += len(desired.enums) - len(desired.present_enums())
    for kind in KINDS:
        present = [o for o in of_kind(kind, desired.objects) if o.state == "present"]
        absent += len(of_kind(kind, desired.objects)) - len(present)
        if kind.file_key == GRANTS_KEY:  # one object per target, many entries each
            counted += [count(n, word) for n, word in declared_counts(present) if n]
        elif present:
            counted.append(count(len(present), singular(kind.file_key)))
    if absent:
        counted.append(f"{absent} marked absent")
    err.print(f"{file_name(args)}: valid ({', '.join(counted)})", markup=False)
    return ExitStatus.OK


def schema(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    from mmschema.desired.load import json_schema

    print_json(json_schema(), environment)
    return ExitStatus.OK


def plan(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    fail_on = parse_kinds(args.fail_on)
    from_source = getattr(args, "from_source", None)
    # A file planned before: its table names are known, so the target's read starts while
    # the cached file is unpickled (early_read.py). Otherwise the file is checked first.
    kept = None if from_source else kept_table_names(args)
    cold = None if kept is not None or from_source else cold_read(args, environment)
    try:
        desired = load_file(args) if kept is None else None
    except BaseException:
        if cold is not None:
            cold.close()
        raise
    out, err = consoles(environment)
    fmt = output_format(args, environment)
    rehearsed = None
    if from_source:
        if getattr(args, "rehearse", False):
            raise UsageError("--rehearse needs a live target; it cannot go with --from")
        desired = desired or load_file(args)
        planned = plan_from_source(args, environment, desired, err)
        if fmt == "text":
            out.print(
                f"planned against {args.from_source}, not a live database",
                highlight=False,
                markup=False,
            )
    else:
        target = target_for(args, environment, err)
        read_ahead = cold.connection(target.dsn) if cold is not None else None
        with (
            read_ahead or connect(target.dsn) as conn,
            bounded_reads(conn, environment.env, "plan", target.label),
        ):
            with early_read(conn, kept) as early:
                desired = desired or load_file(args)
            ahead = early or (cold if read_ahead is not None else None)
            planned = make_plan(args, environment, desired, conn, target, err, ahead)
            if getattr(args, "rehearse", False):
                from mmschema.commands.applying import rehearse_if_asked

                rehearsed = rehearse_if_asked(args, environment, desired, conn, planned.plan, err)
        if kept is None:
            keep_table_names(args, managed_names(desired))
    sink = getattr(args, "plan_sink", None)  # an inventory groups targets by their plans
    if sink is not None:
        sink.append(planned.plan)
    show_plan(planned.plan, fmt, out, environment, desired.settings)
    if fmt == "text" and sink is None and planned.declared:
        err.print(scratch_note(planned, desired), markup=False)
    if rehearsed is not None:
        from mmschema.rehearsal import show_rehearsal

        show_rehearsal(rehearsed, out if fmt == "text" else err)
    if args.out:
        from mmschema.saved_plan import saved_document

        document = saved_document(planned.plan, desired, file_name(args))
        saved = json.dumps(document, indent=2) + "\n"
        (environment.cwd / args.out).write_text(saved)
        # The same target, named by how it was given (a DSN may hold a password).
        same = " and the same -d" if getattr(args, "database", None) else ""
        err.print(
            f"plan saved to {args.out}; run it with: mmschema apply {args.out}{same}",
            markup=False,
        )
    hit = planned.plan.hazard_kinds() & fail_on
    if hit:
        err.print(f"mmschema: the plan holds hazards named in --fail-on: {', '.join(sorted(hit))}")
        return ExitStatus.REFUSED
    if args.detailed_exitcode and not planned.plan.empty:
        return ExitStatus.CHANGES
    return ExitStatus.OK


def scratch_note(planned: Planned, desired: DesiredState) -> str:
    """How many declared tables needed the scratch server (the rest are spelled canonically),
    and why: values `mmschema fmt` would rewrite, or texts the target does not print yet."""
    note = f"{planned.on_scratch} of {planned.declared} declared tables needed the scratch server"
    if planned.on_scratch == 0:
        return note
    from mmschema.fmt import spelled_otherwise

    tables = planned.desired.tables
    otherwise = sum(
        spelled_otherwise(t, tables[t.name]) for t in desired.present_tables() if t.name in tables
    )
    otherwise = min(otherwise, planned.on_scratch)
    rest = planned.on_scratch - otherwise
    reasons = []
    if otherwise:
        reasons.append(
            f"{otherwise} spelled otherwise than PostgreSQL prints them (`mmschema fmt` rewrites"
            " them)"
        )
    if rest:
        reasons.append(
            f"{rest} with checks, expressions or partitions the target does not print yet, such"
            " as new tables (nothing for `mmschema fmt` to rewrite there)"
        )
    return f"{note} (or its cache): {'; '.join(reasons)}"


def plan_from_source(
    args: argparse.Namespace, environment: Environment, desired: DesiredState, err: Console
) -> Planned:
    """Plan the file against the state SOURCE describes, built in a temporary database."""
    from mmschema.sources import build_state, read_source, server_dsn, temporary_database

    source = read_source(args.from_source, environment.cwd)
    from mmschema.serverless import plan_without_server

    serverless = plan_without_server(
        source,
        desired,
        scratch_for(args, environment, err),
        cache_for(environment),
        f"from:{args.from_source}",
        getattr(args, "prune", False),
    )
    if serverless is not None:
        return serverless  # both files canonical: no server at all
    server = server_dsn(
        args.dev_database, environment.cwd, lambda line: err.print(line, markup=False)
    )
    with temporary_database(server) as dsn:
        build_state(source, dsn, scratch_for(args, environment, err), cache_for(environment))
        with connect(dsn) as conn:
            return compute_plan(
                conn,
                desired,
                scratch_for(args, environment, err),
                cache_for(environment),
                f"from:{args.from_source}",
                prune=getattr(args, "prune", False),
            )


def dump(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    from mmschema.dump import NotFound, chosen_tables, dump_schema
    from mmschema.inexpressible import inexpressible

    _, err = consoles(environment)
    target = target_for(args, environment, err)
    with connect(target.dsn) as conn, bounded_reads(conn, environment.env, "dump", target.label):
        try:
            names = chosen_tables(conn, args.schema, args.tables)
        except NotFound as missing:
            raise UsageError(f"{missing} in {target.label}") from None
        text = dump_schema(conn, names, args.schema, args.tables, all_grants=args.all_grants)
        for line in inexpressible(conn, names):
            err.print(f"warning: {line}", markup=False)
    if args.output:
        in_workdir(args, args.output).write_text(text)
    else:
        environment.stdout.write(text)
    return ExitStatus.OK


def import_schema(args: argparse.Namespace, environment: Environment) -> ExitStatus:
    """Run SQL files or migration folders on the scratch server; write the schema.yaml."""
    from mmschema.dump import NotFound
    from mmschema.importer import import_sources

    _, err = consoles(environment)

    def say(line: str) -> None:
        err.print(line, markup=False)

    try:
        imported = import_sources(
            args.sources, args.schema, args.dev_database, environment.cwd, say
        )
    except NotFound as missing:
        raise UsageError(f"{missing} after running the sources") from None
    for backfill in imported.backfills:
        where = f" where {backfill.where}" if backfill.where else ""
        say(
            f"{backfill.source}: UPDATE becomes the backfill of {backfill.table}."
            f"{backfill.column}: {backfill.value}{where}"
        )
    if imported.unexpressed:
        heading = "left out" if args.ignore_data else "schema.yaml cannot hold"
        say(f"{heading}: {count(len(imported.unexpressed), 'statement')}:")
        for statement in imported.unexpressed:
            say(f"  {statement.line()}")
        if not args.ignore_data:
            say(
                "mmschema: nothing written; move these into a script of their own, or pass "
                "--ignore-data to write the file without them"
            )
            return ExitStatus.ERROR
    if args.output:
        in_workdir(args, args.output).write_text(imported.text)
        say(f"wrote {args.output}")
    else:
        environment.stdout.write(imported.text)
    return ExitStatus.OK
